-- +goose Up
-- Czech full-text search on the board: accent- and case-insensitive ("vyhlaska" finds
-- "Vyhláška"). The folding is our own immutable function rather than unaccent(), which is
-- only STABLE (unusable in a generated column) and lives in the contrib package a server
-- may lack.

-- noticeboard_fold lower-cases s and strips the diacritics of Czech (and of the Slovak and
-- German letters that appear in names). Both cases are listed because lower() leaves
-- non-ASCII letters alone under the C collation.
-- +goose StatementBegin
CREATE FUNCTION noticeboard_fold(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(translate(s,
    'ÁÄČĎÉĚËÍĹĽŇÓÔÖŔŘŠŤÚŮÜÝŽáäčďéěëíĺľňóôöŕřšťúůüýž',
    'AACDEEEILLNOOORRSTUUUYZaacdeeeillnooorrstuuuyz')) $$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION noticeboard_fold(text) TO epom_app;

-- What a search matches: title, text, číslo jednací, spisová značka and the issuing body,
-- folded once on write. Words match as substrings (a partial word finds the whole word).
-- No trigram index: under row-level security a LIKE (not leakproof) may not run inside an
-- index scan before the policy, so the planner would never use one; the search narrows by
-- the (tenant_id, state, …) index to one tenant's few hundred notices and filters those.
ALTER TABLE noticeboard_notices ADD COLUMN search text GENERATED ALWAYS AS (noticeboard_fold(
    title || ' ' || body || ' ' || reference_number || ' ' || file_mark || ' ' || origin_name)) STORED;

-- The public board lists one tenant's posted (or archived) notices by posting time.
CREATE INDEX noticeboard_notices_public ON noticeboard_notices (tenant_id, state, posted_at DESC);

-- +goose Down
DROP INDEX noticeboard_notices_public;
ALTER TABLE noticeboard_notices DROP COLUMN search;
DROP FUNCTION noticeboard_fold(text);

// Package catalogue is the ČSÚ list of all Czech municipalities (obce), embedded in the binary,
// loaded into PostgreSQL at migrate time and searched by onboarding and subscription.
package catalogue

import (
	"context"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

//go:embed data/municipalities.csv
var dataFS embed.FS

// Municipality is one row of the catalogue.
type Municipality struct {
	KodObce    string // kód obce (ZÚJ)
	Name       string
	Type       string // Obec, Město, Městys, Statutární město, Hlavní město, Vojenský újezd
	POUCode    string // pověřený obecní úřad
	POUName    string
	ORPCode    string // obec s rozšířenou působností
	ORPName    string
	OkresNUTS  string
	OkresName  string
	KrajNUTS   string
	KrajName   string
	ICO        string // IČO; empty for the four military areas
	Population *int
	PSC        []string
	ValidFrom  time.Time
	SearchKey  string
}

// Load parses the embedded CSV.
func Load() ([]Municipality, error) {
	f, err := dataFS.Open("data/municipalities.csv")
	if err != nil {
		return nil, fmt.Errorf("open embedded catalogue: %w", err)
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads the catalogue CSV (header row, the columns of shared/data/municipalities.csv).
func Parse(r io.Reader) ([]Municipality, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read catalogue header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[h] = i
	}
	required := []string{"kod_obce", "nazev_obce", "typ_obce", "pou_kod_csu", "pou_nazev", "orp_kod_csu",
		"orp_nazev", "okres_kod_nuts", "okres_nazev", "kraj_kod_nuts", "kraj_nazev", "ico",
		"pocet_obyvatel_2018", "psc", "platnost_k"}
	for _, name := range required {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("catalogue CSV lacks column %q", name)
		}
	}
	var out []Municipality
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("catalogue CSV line %d: %w", line, err)
		}
		get := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
		m := Municipality{
			KodObce: get("kod_obce"), Name: get("nazev_obce"), Type: get("typ_obce"),
			POUCode: get("pou_kod_csu"), POUName: get("pou_nazev"),
			ORPCode: get("orp_kod_csu"), ORPName: get("orp_nazev"),
			OkresNUTS: get("okres_kod_nuts"), OkresName: get("okres_nazev"),
			KrajNUTS: get("kraj_kod_nuts"), KrajName: get("kraj_nazev"),
			ICO: get("ico"), PSC: strings.Fields(get("psc")),
		}
		if m.KodObce == "" || m.Name == "" {
			return nil, fmt.Errorf("catalogue CSV line %d: empty kod_obce or name", line)
		}
		if p := get("pocet_obyvatel_2018"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("catalogue CSV line %d: population %q: %w", line, p, err)
			}
			m.Population = &n
		}
		if m.ValidFrom, err = time.Parse(time.DateOnly, get("platnost_k")); err != nil {
			return nil, fmt.Errorf("catalogue CSV line %d: platnost_k: %w", line, err)
		}
		m.SearchKey = Fold(m.Name)
		out = append(out, m)
	}
	return out, nil
}

// Fold lower-cases s and strips diacritics, so "Kunžak" and "kunzak" compare equal.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	return strings.ToLower(folded)
}

// Sync makes catalogue_municipalities equal to ms: new rows are inserted, changed rows
// updated, unchanged rows not touched (so a second run writes nothing). Rows are never
// deleted: a tenant may reference a municipality that has since merged. It runs as the owner
// role and reports how many rows it inserted or updated.
func Sync(ctx context.Context, owner *pgxpool.Pool, ms []Municipality) (int64, error) {
	tx, err := owner.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin catalogue sync: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE catalogue_incoming
		(LIKE catalogue_municipalities INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
		return 0, fmt.Errorf("create staging table: %w", err)
	}
	cols := []string{"kod_obce", "nazev", "typ", "pou_kod", "pou_nazev", "orp_kod", "orp_nazev",
		"okres_kod_nuts", "okres_nazev", "kraj_kod_nuts", "kraj_nazev", "ico", "pocet_obyvatel",
		"psc", "platnost_k", "search_key"}
	rows := make([][]any, len(ms))
	for i, m := range ms {
		rows[i] = []any{m.KodObce, m.Name, m.Type, m.POUCode, m.POUName, m.ORPCode, m.ORPName,
			m.OkresNUTS, m.OkresName, m.KrajNUTS, m.KrajName, m.ICO, m.Population, m.PSC,
			m.ValidFrom, m.SearchKey}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"catalogue_incoming"}, cols, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("copy catalogue rows: %w", err)
	}
	var set []string
	for _, c := range cols[1:] {
		set = append(set, c+" = EXCLUDED."+c)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO catalogue_municipalities AS cur (`+strings.Join(cols, ", ")+`)
		SELECT `+strings.Join(cols, ", ")+` FROM catalogue_incoming
		ON CONFLICT (kod_obce) DO UPDATE SET `+strings.Join(set, ", ")+`
		WHERE (cur.*) IS DISTINCT FROM (EXCLUDED.*)`)
	if err != nil {
		return 0, fmt.Errorf("upsert catalogue: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit catalogue sync: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Hit is a search result: a municipality and, when it uses epom, its tenant's slug.
type Hit struct {
	Municipality
	TenantSlug string
}

// Search finds municipalities by part of the name (diacritics ignored), kód obce or IČO,
// optionally within one kraj; names that start with the query rank first.
func Search(ctx context.Context, pool *pgxpool.Pool, q, krajNUTS string, limit int) ([]Hit, error) {
	key := Fold(strings.TrimSpace(q))
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(key) + "%"
	rows, err := pool.Query(ctx, `
		SELECT c.kod_obce, c.nazev, c.typ, c.pou_kod, c.pou_nazev, c.orp_kod, c.orp_nazev,
		       c.okres_kod_nuts, c.okres_nazev, c.kraj_kod_nuts, c.kraj_nazev, c.ico, c.psc,
		       COALESCE(t.slug, '')
		FROM catalogue_municipalities c
		LEFT JOIN tenants t ON t.kod_obce = c.kod_obce AND t.status = 'active'
		WHERE ($1 = '' OR c.search_key LIKE $2 OR c.kod_obce = $1 OR c.ico = $1)
		  AND ($3 = '' OR c.kraj_kod_nuts = $3)
		ORDER BY (c.search_key = $1) DESC, (c.search_key LIKE $4) DESC, c.nazev, c.kod_obce
		LIMIT $5`, key, like, krajNUTS, like[1:], limit)
	if err != nil {
		return nil, fmt.Errorf("search catalogue: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hit, error) {
		var h Hit
		err := r.Scan(&h.KodObce, &h.Name, &h.Type, &h.POUCode, &h.POUName, &h.ORPCode, &h.ORPName,
			&h.OkresNUTS, &h.OkresName, &h.KrajNUTS, &h.KrajName, &h.ICO, &h.PSC, &h.TenantSlug)
		return h, err
	})
}

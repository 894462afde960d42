package noticeboard

import "strings"

// maxSearchWords bounds the work one query string can ask of the database.
const maxSearchWords = 10

// searchWhere adds to a notice query the condition that every word of q occurs, as a
// substring, in the notice's title, text, číslo jednací, spisová značka or issuing body,
// whatever the case and diacritics: the column `search` holds those fields folded by
// noticeboard_fold (migration 00004), and each word is folded by the same function, so Go
// and SQL can never disagree on what "vyhlaska" matches.
func searchWhere(q string, where []string, args []any) ([]string, []any) {
	words := strings.Fields(q)
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	for _, w := range words {
		where = append(where, `search LIKE '%' || noticeboard_fold(?) || '%'`)
		args = append(args, likeEscape(w))
	}
	return where, args
}

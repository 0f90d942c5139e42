package store

import "strings"

// The searched text columns of each table, in the order of the trigram
// index over them (migration 00008): a search must repeat the index's
// expression exactly for the index to serve it. Movements have no such
// index: their search is bounded by an account and a period.
var (
	hgsSearchColumns = []string{"entrance_motorway", "departure_motorway", "explanation"}
)

// searchMatch is the condition that the columns contain the text bound to
// param (already escaped with escapeLike), compared by Turkish case rules
// through search_fold: ÇAMLICA finds Çamlıca, İSTANBUL and ISTANBUL find
// İstanbul. prefix qualifies the columns ("t." for an aliased table).
func searchMatch(prefix string, columns []string, param string) string {
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = prefix + c
	}
	return "search_fold(" + strings.Join(cols, ` || E'\n' || `) + ") LIKE '%' || search_fold(" + param + ") || '%'"
}

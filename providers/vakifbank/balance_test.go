package vakifbank

import "github.com/shopspring/decimal"

// balanceBreak is a place where the balance chain does not hold: the
// movement at Index does not take the previous balance to its own. The
// product finds breaks in the stored movements (store.BalanceBreaks); this
// copy checks the client's output in the tests.
type balanceBreak struct {
	Index    int    // index of the movement whose balance is off
	PrevID   string // TransactionId of the movement before it
	ID       string // TransactionId of the movement itself
	Expected decimal.Decimal
	Actual   decimal.Decimal
}

// Difference is the amount the chain is missing: Actual - Expected.
func (b balanceBreak) Difference() decimal.Decimal { return b.Actual.Sub(b.Expected) }

// balanceBreaks checks that the movements of one account, in date order,
// satisfy Balance[i] = Balance[i-1] + Amount[i], and returns every place
// where they do not. The first movement has no predecessor and is trusted.
func balanceBreaks(txns []Transaction) []balanceBreak {
	var breaks []balanceBreak
	for i := 1; i < len(txns); i++ {
		want := txns[i-1].Balance.Add(txns[i].Amount)
		if !want.Equal(txns[i].Balance) {
			breaks = append(breaks, balanceBreak{
				Index:    i,
				PrevID:   txns[i-1].ID,
				ID:       txns[i].ID,
				Expected: want,
				Actual:   txns[i].Balance,
			})
		}
	}
	return breaks
}

package vakifbanktest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"kasa/tz"
)

// kind is one sort of movement the seed draws.
type kind struct {
	in         bool
	code, name string
	min, max   int64 // kuruş/cents, before inflation
	weight     int
	descr      func(g *gen, at time.Time) string
	fee        bool // a transfer the bank charges a fee for
}

// profile describes how one account moves.
type profile struct {
	Account
	opening, target int64 // balance in cents
	weekday         [2]int
	saturday        [2]int
	kinds           []kind
	payroll         bool // monthly salaries, SGK, KDV and account fee
	inflate         bool // amounts grow with Turkish lira inflation
	feeName, feeFmt string
	feeMin, feeMax  int64
}

type gen struct {
	rng *rand.Rand
	s   *Server
	// origin is the first day; amounts grow from it with Turkish inflation.
	origin time.Time
}

// seed adds the sandbox accounts with three years of movements up to Now.
// It runs in New, before the Server is shared, and takes tens of
// milliseconds for about forty thousand movements.
func (s *Server) seed() {
	end := s.now().In(tz.Istanbul)
	first := dayStart(end).AddDate(-3, 0, 0)
	g := &gen{rng: rand.New(rand.NewPCG(s.opts.RandSeed, 0x5EED_7AC1F)), s: s, origin: first}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range sandboxProfiles() {
		s.addLocked(&account{Account: p.Account, moves: g.movements(p, first, end)})
	}
}

func dayStart(t time.Time) time.Time {
	t = t.In(tz.Istanbul)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, tz.Istanbul)
}

// movements draws the account's history from the first day up to end.
func (g *gen) movements(p profile, first, end time.Time) []movement {
	days := int(end.Sub(first).Hours()/24) + 1
	moves := make([]movement, 0, days*(p.weekday[0]+p.weekday[1])/2)
	balance := p.opening
	var last time.Time
	emit := func(k kind, at time.Time, amount int64, descr string) {
		if !at.After(last) {
			at = last.Add(time.Second) // the bank lists one movement per second at most
		}
		if at.After(end) {
			return
		}
		last = at
		typ := byte(1)
		if !k.in {
			typ, amount = 2, -amount
		}
		balance += amount
		moves = append(moves, movement{id: g.s.newID(at), at: at, typ: typ, amount: amount,
			balance: balance, code: k.code, name: k.name, descr: descr})
	}
	for day := first; !day.After(end); day = day.AddDate(0, 0, 1) {
		scale := 1.0
		if p.inflate {
			scale = g.inflation(day)
		}
		var n int
		switch day.Weekday() {
		case time.Saturday:
			n = p.saturday[0] + g.rng.IntN(p.saturday[1]-p.saturday[0]+1)
		case time.Sunday:
			if p.saturday[1] > 0 {
				n = g.rng.IntN(2)
			}
		default:
			n = p.weekday[0] + g.rng.IntN(p.weekday[1]-p.weekday[0]+1)
		}
		drafts := make([]draft, 0, n+16)
		for range n {
			drafts = append(drafts, draft{at: day.Add(8*time.Hour + 30*time.Minute + time.Duration(g.rng.IntN(10*3600))*time.Second)})
		}
		if p.payroll {
			drafts = append(drafts, g.monthly(day, scale)...)
		}
		sortDrafts(drafts)
		for _, d := range drafts {
			if d.fixed != nil {
				emit(*d.fixed, d.at, d.amount, d.descr)
				continue
			}
			in := g.rng.Float64() < g.inShare(balance, int64(float64(p.target)*scale))
			k := g.pick(p.kinds, in)
			amount := g.amount(k.min, k.max, scale)
			if !k.in && amount > balance/3 {
				// Do not let one payment empty the account: take in money instead.
				k = g.pick(p.kinds, true)
				amount = g.amount(k.min, k.max, scale)
			}
			emit(k, d.at, amount, k.descr(g, d.at))
			if k.fee && g.rng.IntN(100) < 40 {
				fee := kind{code: "FYTSMSRF", name: p.feeName}
				emit(fee, d.at.Add(time.Second), g.amount(p.feeMin, p.feeMax, 1), p.feeFmt)
			}
		}
	}
	return moves
}

// inflation is the factor prices have grown by since the first day: about
// 3% a month, so that amounts three years apart look like Turkish ones.
func (g *gen) inflation(day time.Time) float64 {
	months := day.Sub(g.origin).Hours() / 24 / 30.4
	return math.Pow(1.03, months)
}

// inShare is the chance the next movement brings money in: even around the
// target balance, leaning back towards it when the balance strays.
func (g *gen) inShare(balance, target int64) float64 {
	switch {
	case balance < target/2:
		return 0.7
	case balance > target*2:
		return 0.3
	}
	return 0.5
}

func (g *gen) pick(kinds []kind, in bool) kind {
	total := 0
	for _, k := range kinds {
		if k.in == in {
			total += k.weight
		}
	}
	r := g.rng.IntN(total)
	for _, k := range kinds {
		if k.in != in {
			continue
		}
		if r < k.weight {
			return k
		}
		r -= k.weight
	}
	panic("unreachable")
}

// amount draws cents log-uniformly between min and max, so that small
// movements are common and large ones rare, as on a real account.
func (g *gen) amount(min, max int64, scale float64) int64 {
	lo, hi := math.Log(float64(min)), math.Log(float64(max))
	c := int64(math.Exp(lo+g.rng.Float64()*(hi-lo)) * scale)
	return max64(c, 1)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// draft is a movement to be: fixed ones (the monthly payments) are known in
// advance; the others are drawn when their turn comes, against the balance
// of that moment.
type draft struct {
	at     time.Time
	fixed  *kind
	amount int64
	descr  string
}

// monthly returns the company's fixed monthly payments that fall on day.
func (g *gen) monthly(day time.Time, scale float64) []draft {
	var ds []draft
	add := func(at time.Duration, code, name string, amount int64, descr string) {
		ds = append(ds, draft{at: day.Add(at), fixed: &kind{code: code, name: name}, amount: amount, descr: descr})
	}
	period := day.AddDate(0, -1, 0).Format("2006/01")
	if day.Equal(firstWeekday(day)) {
		add(7*time.Hour+5*time.Minute, "FYTSMSRF", "Masraf tahsilatı", int64(25000*scale),
			"HESAP İŞLETİM ÜCRETİ "+day.Format("2006/01"))
	}
	if day.Equal(weekdayOnOrAfter(time.Date(day.Year(), day.Month(), 26, 0, 0, 0, 0, tz.Istanbul))) {
		add(9*time.Hour+12*time.Minute, "SGKPRMODM", "SGK prim ödemesi",
			int64(float64(g.amount(14_000_000, 18_000_000, 1))*scale), "SGK PRİM ÖDEMESİ "+period+" DÖNEMİ")
		add(9*time.Hour+20*time.Minute, "VRGODEME", "Vergi ödemesi",
			int64(float64(g.amount(8_000_000, 30_000_000, 1))*scale), "KDV ÖDEMESİ "+period+" DÖNEMİ VERGİ DAİRESİ: KOZYATAĞI")
	}
	if day.Equal(lastWeekday(day)) {
		month := day.Format("2006/01")
		for i, name := range employees {
			salary := int64(float64(2_200_000+int64(i)*300_000) * scale)
			add(10*time.Hour+time.Duration(i)*time.Second, "MAASODEME", "Maaş ödemesi", salary, "MAAŞ ÖDEMESİ "+month+" "+name)
		}
	}
	return ds
}

func firstWeekday(t time.Time) time.Time {
	return weekdayOnOrAfter(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, tz.Istanbul))
}

func weekdayOnOrAfter(d time.Time) time.Time {
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func lastWeekday(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, tz.Istanbul)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// sortDrafts is a stable insertion sort: a day has a few dozen movements.
func sortDrafts(ds []draft) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].at.Before(ds[j-1].at); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func (g *gen) oneOf(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *gen) invoice(at time.Time) string {
	return fmt.Sprintf("FTR%d%06d", at.Year(), g.rng.IntN(1_000_000))
}

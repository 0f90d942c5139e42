package consents

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"kasa/providers/garanti"
	"kasa/tz"
)

// ErrQuota means the consent's data calls for today are used up (by the
// product's count, or because the bank said so with a 429): the next one is
// allowed after Istanbul midnight.
var ErrQuota = errors.New("garanti: the consent's calls for today are used up")

// ErrNotActive means the consent is not active in the product: the bank
// would refuse to read it (E031), and renewing its token could flag a
// consent that simply ended as needing re-approval, so the bank is not asked.
var ErrNotActive = errors.New("garanti: consent is not active")

// DaySpent reports whether a 429 means the consent's calls for the day are
// used up. Only the bank can say so: its Retry-After runs into the next
// Istanbul day, or, giving none, it names frequencyPerDay or the plan limit.
// Any other 429 is throttling: the calls were not counted, and the caller
// waits as long as the bank asked.
func DaySpent(ge *garanti.Error, now time.Time) bool {
	if ge.RetryAfter > 0 {
		return !now.Add(ge.RetryAfter).Before(tz.Day(now).AddDate(0, 0, 1))
	}
	info := strings.ToLower(ge.Info)
	return strings.Contains(info, "frequencyperday") || strings.Contains(info, "plan limit")
}

// ReserveCall counts one data call of the consent on the Istanbul day of at
// against its frequencyPerDay, and reports whether it could (see
// Reserve).
func (s *Service) ReserveCall(ctx context.Context, c Consent, at time.Time) (bool, error) {
	return s.Reserve(ctx, c.ID, at, c.FrequencyPerDay)
}

// ReleaseCall gives back a call reserved at at that the bank did not count.
func (s *Service) ReleaseCall(ctx context.Context, c Consent, at time.Time) error {
	return s.Release(ctx, c.ID, at)
}

// ExhaustQuota records that the bank said the consent's calls for now's day
// are spent: no more are made until the next Istanbul day.
func (s *Service) ExhaustQuota(ctx context.Context, c Consent, now time.Time) error {
	return s.Exhaust(ctx, c.ID, now, c.FrequencyPerDay)
}

// ReadAtBank reads the consent as the bank holds it now (Consent Read). The
// call is one of the consent's data calls for the day: it is counted like
// an HGS call: refused here when the day's calls are used up, given back
// when the bank did not answer it, and a 429 ends the day's calls only when
// the bank says the day's limit is spent. A refused access token is renewed
// once.
func (s *Service) ReadAtBank(ctx context.Context, c Consent) (garanti.Consent, error) {
	if c.Status != Active {
		return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, ErrNotActive)
	}
	cl, err := s.Client(ctx)
	if err != nil {
		return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, err)
	}
	token, err := s.AccessToken(ctx, cl, c, "", CallMargin)
	if err != nil {
		return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, err)
	}
	at := s.now()
	ok, err := s.ReserveCall(ctx, c, at)
	if err != nil {
		return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, err)
	}
	if !ok {
		return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, ErrQuota)
	}
	bank, err := cl.ReadConsent(ctx, c.ConsentID, token)
	if garanti.IsUnauthorized(err) {
		// Refused before it counted: renew once and use the same reservation.
		if token, err = s.AccessToken(ctx, cl, c, token, CallMargin); err == nil {
			bank, err = cl.ReadConsent(ctx, c.ConsentID, token)
		}
	}
	if err != nil {
		// Only calls the bank accepted count against the day's calls.
		if rerr := s.ReleaseCall(ctx, c, at); rerr != nil {
			return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, rerr)
		}
		var ge *garanti.Error
		if now := s.now(); errors.As(err, &ge) && ge.Status == 429 && DaySpent(ge, now) {
			if xerr := s.ExhaustQuota(ctx, c, now); xerr != nil {
				return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, xerr)
			}
			return garanti.Consent{}, fmt.Errorf("read consent %d: %w: %w", c.ID, ErrQuota, err)
		}
		return garanti.Consent{}, fmt.Errorf("read consent %d: %w", c.ID, err)
	}
	return bank, nil
}

// Grant states in a BankComparison.
const (
	GrantLive     = "live"     // the authority is in force for the product
	GrantInactive = "inactive" // listed, but the authority is switched off
	GrantRevoked  = "revoked"  // withdrawn (the product's record only)
	GrantAbsent   = "absent"   // not listed at all
)

// AuthorityDiff is one authority of a consent at both ends: in force when at
// least one product holds it. It differs when it is in force at one end
// only, or for a different number of products.
type AuthorityDiff struct {
	ID               string
	Requested        bool // asked for when the consent was created
	Ours, Bank       bool // in force
	Differs          bool
	OurProducts      int // products holding it, per the product's record
	BankProducts     int // products holding it, per the bank
	requestedOrdinal int // keeps the order of the request, others after
}

// GrantDiff is one (product, authority) row at both ends.
type GrantDiff struct {
	ProductID, AuthorityID string
	Plate                  string
	Ours, Bank             string // GrantLive, GrantInactive, GrantRevoked (ours only), GrantAbsent
	Differs                bool
}

// BankComparison sets the product's record of a consent beside what the
// bank holds, field by field, so a person sees what changed at the bank
// (the customer can change a consent there) before trusting the record.
type BankComparison struct {
	Bank              garanti.Consent
	RecurringDiffers  bool
	ValidationDiffers bool
	FrequencyDiffers  bool
	// TranBeginDiffers and TranEndDiffers are false when the bank's answer
	// has no such date (its documents do not list them for this call).
	TranBeginDiffers bool
	TranEndDiffers   bool
	Authorities      []AuthorityDiff
	Grants           []GrantDiff
}

// Differences counts the fields and rows that differ.
func (b BankComparison) Differences() int {
	n := 0
	for _, d := range []bool{b.RecurringDiffers, b.ValidationDiffers, b.FrequencyDiffers, b.TranBeginDiffers, b.TranEndDiffers} {
		if d {
			n++
		}
	}
	for _, a := range b.Authorities {
		if a.Differs {
			n++
		}
	}
	for _, g := range b.Grants {
		if g.Differs {
			n++
		}
	}
	return n
}

// CompareWithBank compares the product's record of a consent (c and its
// products) with the bank's answer. Dates compare as calendar days. A
// product row the bank no longer lists matches a row the product recorded
// as revoked: the bank leaves withdrawn rows out.
func CompareWithBank(c Consent, products []Product, bank garanti.Consent) BankComparison {
	sameDay := func(a, b time.Time) bool {
		ay, am, ad := a.Date()
		by, bm, bd := b.Date()
		return ay == by && am == bm && ad == bd
	}
	cmp := BankComparison{Bank: bank,
		RecurringDiffers:  c.Recurring != bank.Recurring,
		ValidationDiffers: !sameDay(c.ValidationDate, bank.ValidationDate),
		FrequencyDiffers:  c.FrequencyPerDay != bank.FrequencyPerDay,
		TranBeginDiffers:  !bank.TranBeginDate.IsZero() && !sameDay(c.TranBegin, bank.TranBeginDate),
		TranEndDiffers:    !bank.TranEndDate.IsZero() && !sameDay(c.TranEnd, bank.TranEndDate),
	}

	type key struct{ product, authority string }
	rows := map[key]*GrantDiff{}
	var order []key
	row := func(k key) *GrantDiff {
		if r := rows[k]; r != nil {
			return r
		}
		r := &GrantDiff{ProductID: k.product, AuthorityID: k.authority, Ours: GrantAbsent, Bank: GrantAbsent}
		rows[k] = r
		order = append(order, k)
		return r
	}
	auths := map[string]*AuthorityDiff{}
	auth := func(id string) *AuthorityDiff {
		if a := auths[id]; a != nil {
			return a
		}
		a := &AuthorityDiff{ID: id, requestedOrdinal: len(c.Authorities) + len(auths)}
		auths[id] = a
		return a
	}
	for i, a := range c.Authorities {
		d := auth(a.ID)
		d.Requested, d.requestedOrdinal = true, i
	}
	for _, p := range products {
		r := row(key{p.ProductID, p.AuthorityID})
		r.Plate = p.Plate
		a := auth(p.AuthorityID)
		switch {
		case p.Live():
			r.Ours = GrantLive
			a.OurProducts++
		case p.RevokedAt != nil:
			r.Ours = GrantRevoked
		default:
			r.Ours = GrantInactive
		}
	}
	for _, p := range bank.Products {
		r := row(key{p.ProductID, p.AuthorityID})
		a := auth(p.AuthorityID)
		if p.Flag {
			r.Bank = GrantLive
			a.BankProducts++
		} else {
			r.Bank = GrantInactive
		}
	}
	for _, k := range order {
		r := rows[k]
		ours := r.Ours
		if ours == GrantRevoked {
			ours = GrantAbsent
		}
		r.Differs = ours != r.Bank
		cmp.Grants = append(cmp.Grants, *r)
	}
	sort.SliceStable(cmp.Grants, func(i, j int) bool {
		if cmp.Grants[i].ProductID != cmp.Grants[j].ProductID {
			return cmp.Grants[i].ProductID < cmp.Grants[j].ProductID
		}
		return cmp.Grants[i].AuthorityID < cmp.Grants[j].AuthorityID
	})
	for _, a := range auths {
		a.Ours, a.Bank = a.OurProducts > 0, a.BankProducts > 0
		a.Differs = a.Ours != a.Bank || a.OurProducts != a.BankProducts
		if len(products) == 0 {
			// Nothing recorded per product yet: compare with what was asked.
			a.Ours = a.Requested
			a.Differs = a.Ours != a.Bank
		}
		cmp.Authorities = append(cmp.Authorities, *a)
	}
	sort.Slice(cmp.Authorities, func(i, j int) bool { return cmp.Authorities[i].requestedOrdinal < cmp.Authorities[j].requestedOrdinal })
	return cmp
}

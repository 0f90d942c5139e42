package debts

import (
	"context"
	"fmt"
	"strings"

	"kasa/providers/finrota"
	"kasa/store"
)

// Check is one debt of the mirror next to the record Finrota holds for
// it, read by Finrota's single query, so a person can see any difference
// and choose which side is right.
type Check struct {
	Debt Debt
	// Found is false when Finrota has no record by the debt's id or ERP code.
	Found  bool
	Remote RemoteDebt
	// By names the reference Finrota was asked by: "Id" or "ErpCode".
	By, Ref string
	// Changes are the fields whose value differs, mirror (From) → Finrota
	// (To), by the API's field names; empty when both agree.
	Changes map[string]DebtChange
}

// Check reads the record Finrota holds for debt id: by its Finrota id
// when the mirror knows it, else by the ERP code Finrota confirmed (or, for
// a debt never confirmed, the one it wants), and compares it with the
// mirror. A page view never does this; a person asks for it.
func (s *Service) Check(ctx context.Context, id int64) (Check, error) {
	d, err := s.Debt(ctx, id)
	if err != nil {
		return Check{}, err
	}
	c := Check{Debt: d}
	client, err := s.conn.Finrota(ctx)
	if err != nil {
		return c, fmt.Errorf("debts: check %d: %w", id, err)
	}
	code := deref(d.RemoteErpCode)
	if code == "" {
		code = d.ErpCode
	}
	var got finrota.Debt
	if fid := deref(d.FinrotaID); fid != "" {
		c.By, c.Ref = "Id", fid
		got, err = client.GetByID(ctx, fid)
	} else {
		c.By, c.Ref = "ErpCode", code
		got, err = client.GetByErpCode(ctx, code)
	}
	if finrota.IsNotFound(err) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("debts: check %d: %w", id, err)
	}
	c.Found, c.Remote = true, remoteDebt(got)
	c.Changes = DebtChanges(DebtValues(d), RemoteDebtValues(c.Remote))
	return c, nil
}

// TakeFinrotaValues reads debt id's record at Finrota again (never trusting
// values posted by a form) and makes the mirror hold them, audited as the
// user's choice. ErrNotFound (from store) when Finrota has no record.
func (s *Service) TakeFinrotaValues(ctx context.Context, id, userID int64) (Check, error) {
	c, err := s.Check(ctx, id)
	if err != nil {
		return c, err
	}
	if !c.Found {
		return c, fmt.Errorf("debts: take finrota values of %d: %w", id, store.ErrNotFound)
	}
	d, err := s.takeFinrotaValues(ctx, id, c.Remote, userID)
	c.Debt = d
	return c, err
}

// remoteDebt is a Finrota record as the mirror takes it.
func remoteDebt(d finrota.Debt) RemoteDebt {
	return RemoteDebt{
		FinrotaID: d.ID, ErpCode: d.ErpCode, AgentErpCode: d.AgentErpCode, CurrentAccountErpCode: d.CurrentAccountErpCode,
		Amount: d.Amount, PaidAmount: d.PaidAmount, DocumentNo: d.DocumentNo, DocumentType: d.DocumentType,
		DueDate: d.DueDate, TransactionDate: d.TransactionDate, CurrencyID: strings.ToUpper(d.CurrencyID),
		Description: d.Description, IsActive: d.IsActive,
	}
}

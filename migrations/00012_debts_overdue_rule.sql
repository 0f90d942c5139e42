-- +goose Up
-- Finrota's overdue notification selects PaidAmount <= Amount (fully paid
-- debts included) and DueDate < now (a debt due today included): the
-- partial index follows the rule the overdue queries now use.
DROP INDEX debts_overdue;
CREATE INDEX debts_overdue ON debts (due_date, id) WHERE is_active AND paid_amount <= amount;

-- +goose Down
DROP INDEX debts_overdue;
CREATE INDEX debts_overdue ON debts (due_date, id) WHERE is_active AND paid_amount < amount;

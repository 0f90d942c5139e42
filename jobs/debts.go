package jobs

import (
	"kasa/connect"
	"kasa/store"
)

// DebtJobs returns the handlers and schedules of the Finrota debt work (outbox delivery, sync, overdue notifications).
func DebtJobs(st *store.Store, conn *connect.Connector) (map[string]HandlerFunc, []Schedule) {
	return nil, nil
}

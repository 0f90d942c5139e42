package jobs

import (
	"kasa/connect"
	"kasa/store"
)

// MovementJobs returns the handlers and schedules of the VakıfBank account movement sync.
func MovementJobs(st *store.Store, conn *connect.Connector) (map[string]HandlerFunc, []Schedule) {
	return nil, nil
}

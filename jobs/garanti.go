package jobs

import (
	"kasa/connect"
	"kasa/store"
)

// GarantiJobs returns the handlers and schedules of the Garanti consent and HGS work (status refresh, token renewal, transaction sync).
func GarantiJobs(st *store.Store, conn *connect.Connector) (map[string]HandlerFunc, []Schedule) {
	return nil, nil
}

package finrotatest

import (
	"html/template"
	"net/http"
	"slices"

	"kasa/tz"
)

// maxPageRows bounds the notifications page; each call can add hundreds.
const maxPageRows = 500

var notificationsPage = template.Must(template.New("n").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Finrota (fake): notifications sent</title></head>
<body>
<h1>Finrota (fake): overdue-debt notifications sent</h1>
<p>{{.Total}} notifications in total{{if gt .Total (len .Rows)}}, newest {{len .Rows}} shown{{end}}. Each call to
<code>POST /cat/cat/SendCATDebtInfoMail</code> notifies again every active debt with paid amount &le; amount
(fully paid ones too) whose due date has passed (due today included), of an active current account and agent. <a href="/_fake/faults">Faults</a></p>
{{if .Rows}}<table data-testid="notifications">
<thead><tr><th>Sent at</th><th>Debt ERP code</th><th>Document no</th><th>Agent</th><th>Current account</th><th>Recipient</th><th>Due date</th><th>Outstanding</th></tr></thead>
<tbody>{{range .Rows}}
<tr data-testid="notification"><td>{{.At.Format "2006-01-02 15:04:05 MST"}}</td><td>{{.DebtErpCode}}</td><td>{{.DocumentNo}}</td><td>{{.AgentErpCode}}</td>
<td>{{.CurrentAccountName}} ({{.CurrentAccountErpCode}})</td><td>{{.Recipient}}</td><td>{{.DueDate}}</td><td>{{.Outstanding.StringFixed 2}} {{.Currency}}</td></tr>{{end}}
</tbody></table>{{else}}<p data-testid="no-notifications">No notifications sent yet.</p>{{end}}
</body></html>
`))

// handleNotificationsPage lets a person see what the notification call
// did, newest first; html/template escapes every value.
func (s *Server) handleNotificationsPage(w http.ResponseWriter, r *http.Request) {
	all := s.Notifications()
	slices.Reverse(all)
	rows := all[:min(len(all), maxPageRows)]
	for i := range rows {
		rows[i].At = rows[i].At.In(tz.Istanbul)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := notificationsPage.Execute(w, struct {
		Total int
		Rows  []Notification
	}{len(all), rows}); err != nil {
		http.Error(w, "rendering notifications: "+err.Error(), http.StatusInternalServerError)
	}
}

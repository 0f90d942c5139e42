package faults

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"time"
)

// ControlHandler serves a small page for switching faults on a fake in the
// sandbox: GET shows the faults in force, POST (form fields latency_ms,
// status, count, drop, malformed, or reset) changes them.
func (f *Faults) ControlHandler(title string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if r.FormValue("reset") != "" {
				f.Reset()
			} else {
				ms, _ := strconv.Atoi(r.FormValue("latency_ms"))
				f.SetLatency(time.Duration(ms) * time.Millisecond)
				status, _ := strconv.Atoi(r.FormValue("status"))
				count, err := strconv.Atoi(r.FormValue("count"))
				if err != nil {
					count = -1
				}
				if status < 400 || status > 599 {
					status, count = 0, 0
				}
				f.FailNext(count, status)
				f.DropConnections(r.FormValue("drop") != "")
				f.Malformed(r.FormValue("malformed") != "")
			}
			http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
			return
		}
		st := f.State()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		checked := func(b bool) string {
			if b {
				return " checked"
			}
			return ""
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%[1]s faults</title></head><body>
<h1>%[1]s: faults</h1>
<form method="post">
<p><label>Latency (ms) <input name="latency_ms" type="number" min="0" value="%[2]d"></label></p>
<p><label>Answer with status <input name="status" type="number" min="0" max="599" value="%[3]d"></label>
<label>for the next <input name="count" type="number" value="%[4]d"> requests (-1: all)</label></p>
<p><label><input type="checkbox" name="drop" value="1"%[5]s> Drop connections</label></p>
<p><label><input type="checkbox" name="malformed" value="1"%[6]s> Malformed bodies</label></p>
<p><button>Apply</button> <button name="reset" value="1">Reset</button></p>
</form></body></html>`, html.EscapeString(title), st.Latency.Milliseconds(), st.Status, st.Remaining, checked(st.Drop), checked(st.Malformed))
	})
}

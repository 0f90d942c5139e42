package faults

import (
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// Page configures a fake's fault control page.
type Page struct {
	// Title names the fake ("Garanti BBVA").
	Title string
	// Answers is the fake's catalogue of documented answers (error codes in
	// the provider's envelope) that the page can inject.
	Answers []Answer
	// Extra is more of the fake's own controls, shown below the form (a
	// balance-chain break, say). It must be trusted HTML.
	Extra template.HTML
}

// ControlHandler serves the control page of a fake with no catalogue of
// answers; see ControlPage.
func (f *Faults) ControlHandler(title string) http.Handler {
	return f.ControlPage(Page{Title: title})
}

// ControlPage serves a small page for switching faults on a fake in the
// sandbox: GET shows the faults in force, POST changes them. Form fields:
// latency_ms; status and count (a plain status for the next count
// requests, -1 for all); answer and answer_count (a documented answer from
// the catalogue, by Key, for the next answer_count requests); lost (how many
// next requests lose their reply after the provider acted); drop;
// malformed; or reset. Fields left out switch their fault off.
func (f *Faults) ControlPage(p Page) http.Handler {
	byKey := map[string]Answer{}
	for _, a := range p.Answers {
		byKey[a.Key] = a
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			f.apply(r, byKey)
			http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := controlTmpl.Execute(w, struct {
			Page
			State
			LatencyMS int64
		}{p, f.State(), f.State().Latency.Milliseconds()}); err != nil {
			http.Error(w, "rendering the control page: "+err.Error(), http.StatusInternalServerError)
		}
	})
}

// apply sets the faults from the control page's form.
func (f *Faults) apply(r *http.Request, answers map[string]Answer) {
	if r.FormValue("reset") != "" {
		f.Reset()
		return
	}
	count := func(field string, def int) int {
		n, err := strconv.Atoi(r.FormValue(field))
		if err != nil {
			return def
		}
		return n
	}
	ms, _ := strconv.Atoi(r.FormValue("latency_ms"))
	f.SetLatency(time.Duration(max(ms, 0)) * time.Millisecond)
	status, n := count("status", 0), count("count", -1)
	if status < 400 || status > 599 {
		status, n = 0, 0
	}
	f.FailNext(n, status)
	if a, ok := answers[r.FormValue("answer")]; ok {
		f.AnswerNext(count("answer_count", 1), a)
	} else {
		f.mu.Lock()
		f.answer, f.answerN = nil, 0
		f.mu.Unlock()
	}
	f.LoseReplies(count("lost", 0))
	f.DropConnections(r.FormValue("drop") != "")
	f.Malformed(r.FormValue("malformed") != "")
}

var controlTmpl = template.Must(template.New("faults").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} faults</title>
<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto}p{margin:.6rem 0}select{max-width:100%}</style>
</head><body>
<h1>{{.Title}}: faults</h1>
<p>What the fake does to the next API requests. The product's messages for each answer can be
seen by doing the matching action in Kasa after applying.</p>
<form method="post">
<p><label>Latency (ms) <input name="latency_ms" type="number" min="0" value="{{.LatencyMS}}"></label></p>
<p><label>Answer with plain status <input name="status" type="number" min="0" max="599" value="{{.Status}}"></label>
<label>for the next <input name="count" type="number" value="{{.Remaining}}"> requests (-1: all)</label></p>
{{if .Page.Answers}}<p><label>Answer with a documented error <select name="answer" data-testid="fault-answer">
<option value="">none</option>
{{range .Page.Answers}}<option value="{{.Key}}"{{if eq .Key $.State.Answer}} selected{{end}}>{{.Label}}</option>
{{end}}</select></label>
<label>for the next <input name="answer_count" type="number" value="{{if .State.Answer}}{{.AnswerLeft}}{{else}}1{{end}}"> requests (-1: all)</label></p>{{end}}
<p><label>Lose the reply of the next <input name="lost" type="number" value="{{.Lost}}" data-testid="fault-lost"> requests</label>
(the provider acts, then the connection closes without an answer; -1: all)</p>
<p><label><input type="checkbox" name="drop" value="1"{{if .Drop}} checked{{end}}> Drop connections (nothing reaches the provider)</label></p>
<p><label><input type="checkbox" name="malformed" value="1"{{if .Malformed}} checked{{end}}> Malformed bodies</label></p>
<p><button>Apply</button> <button name="reset" value="1">Reset</button></p>
</form>
<p>Requests delayed since the last reset: <span data-testid="fault-delayed">{{.Delayed}}</span></p>
{{.Page.Extra}}
</body></html>
`))

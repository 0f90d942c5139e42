package garantitest

import (
	"html/template"
	"net/http"
	"net/url"
	"time"
)

// The bank's redirect side. The scaOAuth link leads to GET AuthorizePath,
// which shows the login page; POST LoginPath checks the customer's
// credentials and shows the approval page; POST ApprovePath sends the
// browser back to the TPP's redirect URI with code and state, or with
// error=access_denied on decline.
//
// Stable element ids and names for browser tests:
//
//	login page:    form#login-form; input#customer_no[name=customer_no],
//	               input#password[name=password], input#otp[name=otp],
//	               button#login; errors in p#error
//	approval page: form#approve-form; checkboxes input[name=product]
//	               (id product-<productId>, value productId) and
//	               input[name=authority] (id authority-<authorityID>), all
//	               checked; button#approve[name=action][value=approve],
//	               button#decline[name=action][value=decline]; errors in p#error
//	error page:    h1#error-title, p#error
//
// Both forms carry a hidden request_id, so no cookies are needed.

// maxLoginFailures voids an authorization request after that many wrong
// logins, as the bank locks its internet branch login.
const maxLoginFailures = 5

type authRequest struct {
	id, consentID, clientID, redirectURI string
	state, challenge                     string
	customerNo                           string // set after a successful login
	failures                             int
	expires                              time.Time
	done                                 bool
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="tr"><head><meta charset="utf-8"><title>Garanti BBVA – {{.Title}}</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto}label{display:block;margin:.5rem 0}#error{color:#b00}</style>
</head><body>
<header><strong>Garanti BBVA</strong> · Açık Bankacılık (sandbox)</header>
{{if eq .Kind "login"}}
<h1 id="page-title">İnternet Şubesi Girişi</h1>
<p>Bir uygulama HGS bilgilerinize erişmek için izin istiyor. Devam etmek için giriş yapın.</p>
{{if .Credentials}}<p id="sandbox-credentials" data-testid="sandbox-credentials"><strong>Sandbox / test:</strong>
müşteri numarası (customer number) <code>{{.Credentials.CustomerNo}}</code>, şifre (password) <code>{{.Credentials.Password}}</code>,
tek kullanımlık kod (one-time code) <code>{{.Credentials.OTP}}</code></p>{{end}}
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}
<form id="login-form" method="post" action="{{.LoginPath}}">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<label for="customer_no">Müşteri numarası</label><input id="customer_no" name="customer_no" inputmode="numeric" autocomplete="username" value="{{.CustomerNo}}">
<label for="password">Şifre</label><input id="password" name="password" type="password" autocomplete="current-password">
<label for="otp">Tek kullanımlık kod (SMS)</label><input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code">
<button id="login" type="submit">Giriş</button>
</form>
{{else if eq .Kind "approve"}}
<h1 id="page-title">Rıza onayı</h1>
<p><span id="tpp-name">{{.TPPName}}</span> aşağıdaki izinleri istiyor. Sayın <span id="customer-name">{{.CustomerName}}</span>, onaylamak istediklerinizi seçin.</p>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}
<form id="approve-form" method="post" action="{{.ApprovePath}}">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<fieldset><legend>İzinler</legend>
{{range .Authorities}}<label><input type="checkbox" id="authority-{{.}}" name="authority" value="{{.}}" checked> {{.}}</label>
{{end}}</fieldset>
<fieldset><legend>Araçlar (HGS)</legend>
{{range .Products}}<label><input type="checkbox" id="product-{{.ProductID}}" name="product" value="{{.ProductID}}" checked> <span class="plate">{{.Plate}}</span> – sınıf {{.VehicleClassID}} – {{.Status}}</label>
{{else}}<p id="no-products">Bu rıza için uygun HGS ürününüz yok.</p>
{{end}}</fieldset>
<p>Geçerlilik: {{.ValidUntil}} · Günlük erişim: {{.Frequency}}</p>
<button id="approve" type="submit" name="action" value="approve">Onayla</button>
<button id="decline" type="submit" name="action" value="decline">Reddet</button>
</form>
{{else}}
<h1 id="error-title">İşlem yapılamıyor</h1>
<p id="error" role="alert">{{.Error}}</p>
{{end}}
</body></html>`))

type pageData struct {
	Kind, Title, Error, RequestID, CustomerNo string
	LoginPath, ApprovePath                    string
	TPPName, CustomerName, ValidUntil         string
	Frequency                                 int
	Authorities                               []string
	Products                                  []Product
	// Credentials are shown on the login page in sandbox mode only.
	Credentials *Customer
}

func renderPage(w http.ResponseWriter, status int, d pageData) {
	d.LoginPath, d.ApprovePath = LoginPath, ApprovePath
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, d)
}

func errorPage(w http.ResponseWriter, status int, msg string) {
	renderPage(w, status, pageData{Kind: "error", Title: "Hata", Error: msg})
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consents[q.Get("consentId")]
	switch {
	case c == nil:
		errorPage(w, http.StatusBadRequest, "Rıza bulunamadı (unknown consentId).")
		return
	case q.Get("client_id") != c.clientID:
		errorPage(w, http.StatusBadRequest, "Uygulama bu rızaya ait değil (client_id mismatch).")
		return
	case q.Get("redirect_uri") != "" && q.Get("redirect_uri") != c.redirectURI:
		errorPage(w, http.StatusBadRequest, "Yönlendirme adresi kayıtlı değil (redirect_uri mismatch).")
		return
	}
	// From here the redirect URI is trusted, so errors go back to the TPP.
	state := q.Get("state")
	if q.Get("response_type") != "code" {
		redirectBack(w, r, c.redirectURI, url.Values{"error": {"unsupported_response_type"}}, state)
		return
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && (q.Get("code_challenge_method") != "S256" || len(challenge) != 43) {
		redirectBack(w, r, c.redirectURI, url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge must be S256"}}, state)
		return
	}
	now := s.now()
	if c.effectiveStatus(now) != "B" {
		errorPage(w, http.StatusBadRequest, "Bu rıza artık onay beklemiyor (consent is not awaiting authorisation).")
		return
	}
	ar := &authRequest{id: randomToken(16), consentID: c.id, clientID: c.clientID, redirectURI: c.redirectURI,
		state: state, challenge: challenge, expires: now.Add(15 * time.Minute)}
	s.authReqs[ar.id] = ar
	renderPage(w, http.StatusOK, pageData{Kind: "login", Title: "Giriş", RequestID: ar.id, Credentials: s.loginHint()})
}

// liveRequest finds the authorization request a form posted back. Callers
// hold s.mu.
func (s *Server) liveRequest(w http.ResponseWriter, r *http.Request) *authRequest {
	ar := s.authReqs[r.PostFormValue("request_id")]
	if ar == nil || ar.done || !s.now().Before(ar.expires) {
		errorPage(w, http.StatusBadRequest, "Oturum geçersiz veya süresi doldu; lütfen uygulamaya dönüp yeniden deneyin.")
		return nil
	}
	return ar
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar := s.liveRequest(w, r)
	if ar == nil {
		return
	}
	no := r.PostFormValue("customer_no")
	var cust *customer
	for _, c := range s.customers {
		if c.CustomerNo == no && c.Password == r.PostFormValue("password") && c.OTP == r.PostFormValue("otp") {
			cust = c
		}
	}
	if cust == nil {
		msg := "Müşteri numarası, şifre veya tek kullanımlık kod hatalı."
		if no == "" {
			msg = "Müşteri numarası boş olamaz (" + messages["E045"] + ")."
		}
		ar.failures++
		if ar.failures >= maxLoginFailures {
			ar.done = true
			errorPage(w, http.StatusForbidden, "Çok sayıda hatalı giriş; güvenliğiniz için işlem sonlandırıldı.")
			return
		}
		renderPage(w, http.StatusOK, pageData{Kind: "login", Title: "Giriş", RequestID: ar.id, Error: msg, CustomerNo: no, Credentials: s.loginHint()})
		return
	}
	ar.customerNo = cust.CustomerNo
	s.renderApproval(w, ar, "")
}

func (s *Server) renderApproval(w http.ResponseWriter, ar *authRequest, msg string) {
	c := s.consents[ar.consentID]
	d := pageData{Kind: "approve", Title: "Onay", RequestID: ar.id, Error: msg, TPPName: c.tppName,
		ValidUntil: c.validationDate.Format("02.01.2006"), Frequency: c.frequency, Products: s.eligible(c, ar.customerNo)}
	for _, cu := range s.customers {
		if cu.CustomerNo == ar.customerNo {
			d.CustomerName = cu.Name
		}
	}
	for _, a := range c.authorities {
		d.Authorities = append(d.Authorities, a.AuthorityID)
	}
	renderPage(w, http.StatusOK, d)
}

// eligible lists the customer's tags the consent may cover: all of them, or
// the one an authority's productId attribute names.
func (s *Server) eligible(c *consent, customerNo string) []Product {
	var out []Product
	for _, p := range s.productsOf(customerNo) {
		ok := true
		for _, a := range c.authorities {
			if a.AttributeName == "productId" && a.Attribute != p.ProductID {
				ok = false
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar := s.liveRequest(w, r)
	if ar == nil {
		return
	}
	if ar.customerNo == "" {
		errorPage(w, http.StatusForbidden, "Önce giriş yapmalısınız.")
		return
	}
	c := s.consents[ar.consentID]
	now := s.now()
	if c.effectiveStatus(now) != "B" {
		ar.done = true
		errorPage(w, http.StatusBadRequest, "Bu rıza artık onay beklemiyor (consent is not awaiting authorisation).")
		return
	}
	switch r.PostFormValue("action") {
	case "decline":
		ar.done = true
		c.status, c.customerNo = "R", ar.customerNo
		redirectBack(w, r, ar.redirectURI, url.Values{"error": {"access_denied"}}, ar.state)
		return
	case "approve":
	default:
		s.renderApproval(w, ar, "Lütfen Onayla veya Reddet düğmesini kullanın.")
		return
	}
	eligible := map[string]bool{}
	for _, p := range s.eligible(c, ar.customerNo) {
		eligible[p.ProductID] = true
	}
	var products []string
	for _, id := range r.PostForm["product"] {
		if eligible[id] && !contains(products, id) {
			products = append(products, id)
		}
	}
	chosen := map[string]bool{}
	for _, a := range r.PostForm["authority"] {
		chosen[a] = c.hasAuthority(a)
	}
	anyAuthority := false
	for _, ok := range chosen {
		anyAuthority = anyAuthority || ok
	}
	if len(products) == 0 || !anyAuthority {
		s.renderApproval(w, ar, "En az bir araç ve bir izin seçmelisiniz.")
		return
	}
	ar.done = true
	c.customerNo, c.status, c.grants = ar.customerNo, "Y", nil
	for _, p := range products {
		for _, a := range c.authorities {
			c.grants = append(c.grants, &grant{productID: p, authorityID: a.AuthorityID, flag: chosen[a.AuthorityID]})
		}
	}
	code := randomToken(16)
	s.codes[code] = &authCode{clientID: ar.clientID, redirectURI: ar.redirectURI, consentID: c.id,
		customerNo: ar.customerNo, challenge: ar.challenge, expires: now.Add(CodeLifetime)}
	redirectBack(w, r, ar.redirectURI, url.Values{"code": {code}}, ar.state)
}

// redirectBack sends the browser to the TPP's redirect URI with params and,
// when one was sent, the state.
func redirectBack(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		errorPage(w, http.StatusBadRequest, "Yönlendirme adresi geçersiz.")
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// loginHint is the sandbox customer whose credentials the login page shows
// when Options.ShowCredentials is on, nil otherwise.
func (s *Server) loginHint() *Customer {
	if !s.opts.ShowCredentials {
		return nil
	}
	return &Customer{CustomerNo: SandboxCustomerNo, Password: SandboxPassword, OTP: SandboxOTP}
}

package garantitest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

type deleteBody struct {
	AuthorityList []json.RawMessage `json:"authorityConsentList"`
}

type deleteItem struct {
	AuthorityID string `json:"authorityID"`
	ProductID   string `json:"productId"`
}

// handleDelete implements the four delete modes of the seed.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _, ok := s.consentCall(w, r, true)
	if !ok {
		return
	}
	var b deleteBody
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if strings.TrimSpace(string(raw)) != "" {
		if err := json.Unmarshal(raw, &b); err != nil {
			writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: body is not valid JSON")
			return
		}
	}
	items := make([]deleteItem, 0, len(b.AuthorityList))
	for _, rawItem := range b.AuthorityList {
		var keys map[string]json.RawMessage
		var it deleteItem
		if json.Unmarshal(rawItem, &keys) != nil || json.Unmarshal(rawItem, &it) != nil {
			writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: authorityConsentList item is not an object")
			return
		}
		if _, ok := keys["authorityAttributeName"]; ok {
			fail(w, r, "E027")
			return
		}
		if _, ok := keys["authorityAttribute"]; ok {
			fail(w, r, "E028")
			return
		}
		switch {
		case it.AuthorityID == "" && it.ProductID == "":
			fail(w, r, "E004")
			return
		case len(it.AuthorityID) > maxAuthorityLen:
			fail(w, r, "E007")
			return
		case len(it.ProductID) > maxProductIDLen:
			fail(w, r, "E005")
			return
		case it.AuthorityID != "" && !c.hasAuthority(it.AuthorityID):
			fail(w, r, "E029", it.AuthorityID)
			return
		case it.ProductID != "" && !c.hasProduct(it.ProductID):
			fail(w, r, "E052")
			return
		}
		items = append(items, it)
	}
	st := c.effectiveStatus(s.now())
	if st == "I" || st == "S" || st == "R" {
		// Already over: deleting again changes nothing and says so.
		writeJSON(w, http.StatusOK, map[string]string{"consentStatus": st})
		return
	}
	if len(items) == 0 {
		c.status = "I"
	}
	for _, it := range items {
		for _, g := range c.grants {
			switch {
			case it.ProductID == "" && g.authorityID == it.AuthorityID:
				g.flag = false // authority only: inactive for every product
			case it.AuthorityID == "" && g.productID == it.ProductID:
				g.revoked = true // product only: the product's authorisation is withdrawn
			case g.productID == it.ProductID && g.authorityID == it.AuthorityID:
				g.flag = false // both: that authority for that product
			}
		}
	}
	if c.status == "A" && !c.anyLive() {
		c.status = "I"
	}
	writeJSON(w, http.StatusOK, map[string]string{"consentStatus": c.status})
}

func (c *consent) hasAuthority(id string) bool {
	for _, a := range c.authorities {
		if a.AuthorityID == id {
			return true
		}
	}
	return false
}

func (c *consent) hasProduct(id string) bool {
	for _, g := range c.grants {
		if g.productID == id && !g.revoked {
			return true
		}
	}
	return false
}

func (c *consent) anyLive() bool {
	for _, g := range c.grants {
		if g.flag && !g.revoked {
			return true
		}
	}
	return false
}

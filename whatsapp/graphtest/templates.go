package graphtest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"switchboard/whatsapp"
)

// AddTemplate stores a template for a WhatsApp Business Account, given as Meta lists it, e.g.
//
//	{"name":"order_shipped","language":"en_US","status":"APPROVED","category":"UTILITY",
//	 "components":[{"type":"BODY","text":"Hi {{1}}, order {{2}} is on its way"}]}
//
// A missing id is assigned (numeric, as Meta's), a missing status is APPROVED. Once a WABA has
// templates, template sends from its numbers are checked against them: unknown name or language →
// 132001, paused → 132015, disabled → 132016, wrong parameters → 132000.
func (s *Server) AddTemplate(wabaID string, template []byte) error {
	var obj map[string]any
	if err := json.Unmarshal(template, &obj); err != nil {
		return fmt.Errorf("graphtest: template is not a JSON object: %w", err)
	}
	name, _ := obj["name"].(string)
	lang, _ := obj["language"].(string)
	if name == "" || lang == "" {
		return errors.New("graphtest: template needs a name and a language")
	}
	if _, ok := obj["id"]; !ok {
		obj["id"] = newNumericID()
	}
	if _, ok := obj["status"]; !ok {
		obj["status"] = "APPROVED"
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[wabaID] = append(s.templates[wabaID], raw)
	return nil
}

// handleTemplates serves GET /{version}/{waba-id}/message_templates with Meta's cursor paging: limit
// (default 25), after/before cursors, paging.next as an absolute URL on the fake; name filters.
func (s *Server) handleTemplates(w http.ResponseWriter, r *http.Request, version, wabaID string) {
	tok := bearer(r)
	s.mu.Lock()
	allowed, known := false, false
	for _, n := range s.numbers {
		if n.WABAID == wabaID {
			known = true
			allowed = allowed || sameToken(tok, n.Token)
		}
	}
	var list []json.RawMessage
	for _, raw := range s.templates[wabaID] {
		if name := r.URL.Query().Get("name"); name == "" || whatsapp.ParseTemplate(raw).Name == name {
			list = append(list, raw)
		}
	}
	s.mu.Unlock()
	switch {
	case tok == "":
		s.writeError(w, invalidToken())
		return
	case !known:
		s.writeError(w, unsupported(r.Method, wabaID))
		return
	case !allowed:
		s.writeError(w, invalidToken())
		return
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 25
	}
	start := decodeCursor(q.Get("after"))
	start = min(max(start, 0), len(list))
	end := min(start+limit, len(list))
	page := list[start:end]
	if page == nil {
		page = []json.RawMessage{}
	}
	paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(end - 1)}}
	if end < len(list) {
		q.Set("after", cursor(end-1))
		q.Del("access_token")
		paging["next"] = s.externalBase(r) + "/" + version + "/" + url.PathEscape(wabaID) + "/message_templates?" + q.Encode()
	}
	writeJSON(w, map[string]any{"data": page, "paging": paging})
}

// cursor encodes a list position the way Graph cursors look: opaque base64.
func cursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("idx:" + strconv.Itoa(max(i, 0))))
}

// decodeCursor returns the position after the cursor's, 0 for none or garbage.
func decodeCursor(c string) int {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0
	}
	i, err := strconv.Atoi(strings.TrimPrefix(string(b), "idx:"))
	if err != nil {
		return 0
	}
	return i + 1
}

// checkTemplate validates a template send against the WABA's stored templates, when it has any.
func (s *Server) checkTemplate(n Number, t *whatsapp.TemplateMessage) *whatsapp.GraphError {
	s.mu.Lock()
	stored := s.templates[n.WABAID]
	s.mu.Unlock()
	if len(stored) == 0 {
		return nil
	}
	for _, raw := range stored {
		tpl := whatsapp.ParseTemplate(raw)
		if tpl.Name != t.Name || tpl.Language != t.Language {
			continue
		}
		switch strings.ToUpper(tpl.Status) {
		case "APPROVED":
		case "PAUSED":
			return apiError(132015, "", "Template "+t.Name+" is paused due to low quality.")
		case "DISABLED":
			return apiError(132016, "", "Template "+t.Name+" is disabled.")
		default:
			return apiError(132001, "(#132001) Template name does not exist in the translation",
				"template name ("+t.Name+") is not approved in "+t.Language)
		}
		if err := tpl.CheckParams(t.Components); err != nil {
			return apiError(132000, "", problemDetails(err))
		}
		return nil
	}
	return apiError(132001, "(#132001) Template name does not exist in the translation",
		"template name ("+t.Name+") does not exist in "+t.Language)
}

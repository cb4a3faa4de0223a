package graphtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard/whatsapp"
)

func addTemplates(t *testing.T, fake *Server, n int) {
	t.Helper()
	for i := range n {
		tpl := fmt.Sprintf(`{"name":"tpl_%03d","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}}"}]}`, i)
		if err := fake.AddTemplate(testWABA, []byte(tpl)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTemplatePagingWithClient(t *testing.T) {
	h := newHarness(t, Options{})
	addTemplates(t, h.fake, 230) // the client asks for 100 per page: three pages
	got, err := h.client.ListTemplates(t.Context(), testToken, testWABA)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 230 || got[0].Name != "tpl_000" || got[229].Name != "tpl_229" || got[5].ID == "" || got[5].Status != "APPROVED" {
		t.Fatalf("%d templates, first %+v", len(got), got[0])
	}
	ids := map[string]bool{}
	for _, tpl := range got {
		if ids[tpl.ID] {
			t.Fatalf("template id %s listed twice", tpl.ID)
		}
		ids[tpl.ID] = true
	}
	if _, err := h.client.ListTemplates(t.Context(), "wrong", testWABA); whatsapp.Classify(err) != whatsapp.ClassTokenInvalid {
		t.Errorf("wrong token: %v", err)
	}
	var ge *whatsapp.GraphError
	if _, err := h.client.ListTemplates(t.Context(), testToken, "999"); !errors.As(err, &ge) || ge.Code != 100 {
		t.Errorf("unknown WABA: %v", err)
	}
}

// TestTemplatePagingLinks reads the raw pages through a mount prefix: cursors, and next links that are
// absolute URLs on the fake's external base.
func TestTemplatePagingLinks(t *testing.T) {
	h := newHarness(t, Options{})
	addTemplates(t, h.fake, 5)
	mux := http.NewServeMux()
	mux.Handle("/sandbox/graph/", http.StripPrefix("/sandbox/graph", h.fake))
	front := httptest.NewServer(mux)
	defer front.Close()

	next := front.URL + "/sandbox/graph/v25.0/" + testWABA + "/message_templates?limit=2"
	var names []string
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var page struct {
			Data   []struct{ Name string }
			Paging struct {
				Cursors struct{ Before, After string }
				Next    string
			}
		}
		if err := json.Unmarshal(body, &page); err != nil || page.Paging.Cursors.After == "" || page.Paging.Cursors.Before == "" {
			t.Fatalf("page %s: %v", body, err)
		}
		for _, d := range page.Data {
			names = append(names, d.Name)
		}
		next = page.Paging.Next
		if next != "" && !strings.HasPrefix(next, front.URL+"/sandbox/graph/v25.0/"+testWABA+"/message_templates?") {
			t.Fatalf("next link %q is not on the fake's external base", next)
		}
	}
	if strings.Join(names, ",") != "tpl_000,tpl_001,tpl_002,tpl_003,tpl_004" {
		t.Errorf("names = %v", names)
	}
}

func TestTemplateSendsChecked(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	for _, tpl := range []string{
		`{"name":"order_shipped","language":"en_US","status":"APPROVED","components":[{"type":"BODY","text":"Hi {{1}}, order {{2}} shipped"}]}`,
		`{"name":"promo","language":"en_US","status":"PAUSED","components":[{"type":"BODY","text":"Sale"}]}`,
		`{"name":"old","language":"en_US","status":"DISABLED","components":[{"type":"BODY","text":"Old"}]}`,
		`{"name":"draft","language":"en_US","status":"PENDING","components":[{"type":"BODY","text":"Draft"}]}`,
	} {
		if err := h.fake.AddTemplate(testWABA, []byte(tpl)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.fake.AddTemplate(testWABA, []byte(`{"language":"en"}`)); err == nil {
		t.Error("template without a name was stored")
	}
	send := func(name, lang string, params ...string) error {
		var ps []whatsapp.TemplateParameter
		for _, p := range params {
			ps = append(ps, whatsapp.TextParam(p))
		}
		tpl := &whatsapp.TemplateMessage{Name: name, Language: lang}
		if len(ps) > 0 {
			tpl.Components = []whatsapp.TemplateComponentParams{{Type: "body", Parameters: ps}}
		}
		res, err := h.client.Send(t.Context(), testToken, testPNID, whatsapp.OutboundMessage{To: customer, Template: tpl})
		if err == nil && res.MessageStatus != "accepted" {
			t.Errorf("template answer without message_status: %+v", res)
		}
		return err
	}
	tests := []struct {
		name   string
		err    error
		code   int
		detail string
	}{
		{"approved with the right params", send("order_shipped", "en_US", "Lena", "4711"), 0, ""},
		{"missing param", send("order_shipped", "en_US", "Lena"), 132000, "expects 2 parameters, got 1"},
		{"unknown language", send("order_shipped", "de"), 132001, "does not exist in de"},
		{"unknown name", send("nope", "en_US"), 132001, "does not exist"},
		{"paused", send("promo", "en_US"), 132015, ""},
		{"disabled", send("old", "en_US"), 132016, ""},
		{"pending", send("draft", "en_US"), 132001, "not approved"},
	}
	for _, tt := range tests {
		var ge *whatsapp.GraphError
		switch {
		case tt.code == 0 && tt.err != nil:
			t.Errorf("%s: %v", tt.name, tt.err)
		case tt.code != 0 && (!errors.As(tt.err, &ge) || ge.Code != tt.code || !strings.Contains(ge.Details, tt.detail)):
			t.Errorf("%s: %v, want code %d with %q", tt.name, tt.err, tt.code, tt.detail)
		case tt.code != 0 && whatsapp.Classify(tt.err) != whatsapp.ClassPermanent:
			t.Errorf("%s: class %v", tt.name, whatsapp.Classify(tt.err))
		}
	}
}

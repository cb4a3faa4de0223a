package whatsapp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// templatePages serves /v25.0/{waba}/message_templates in pages keyed by the after cursor and
// records the queries it saw.
func templatePages(t *testing.T, pages map[string]string) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v25.0/210987654321098/message_templates" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusNotFound)
			return
		}
		mu.Lock()
		seen = append(seen, r.URL.RawQuery)
		mu.Unlock()
		body := strings.ReplaceAll(pages[r.URL.Query().Get("after")], "{base}", "http://"+r.Host)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func tplJSON(id int, name string) string {
	return fmt.Sprintf(`{"id":%d,"name":%q,"language":"en_US","status":"APPROVED","category":"UTILITY",`+
		`"components":[{"type":"BODY","text":"Hi {{1}}"}]}`, id, name)
}

func TestListTemplatesFollowsPaging(t *testing.T) {
	srv, seen := templatePages(t, map[string]string{
		"": `{"data":[` + tplJSON(1, "a") + `,` + tplJSON(2, "b") + `],"paging":{"cursors":{"before":"c0","after":"c1"},` +
			`"next":"{base}/v25.0/210987654321098/message_templates?limit=2&after=c1"}}`,
		"c1": `{"data":[` + tplJSON(3, "c") + `,` + tplJSON(4, "d") + `],"paging":{"cursors":{"before":"c1","after":"c2"},` +
			`"next":"{base}/v25.0/210987654321098/message_templates?limit=2&after=c2"}}`,
		"c2": `{"data":[` + tplJSON(5, "e") + `],"paging":{"cursors":{"before":"c2","after":"c3"}}}`,
	})
	c := NewClient(ClientOptions{HTTPClient: srv.Client(), BaseURL: srv.URL, Version: "v25.0"})
	got, err := c.ListTemplates(t.Context(), "tok", "210987654321098")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tpl := range got {
		names = append(names, tpl.ID+":"+tpl.Name)
	}
	if want := []string{"1:a", "2:b", "3:c", "4:d", "5:e"}; !reflect.DeepEqual(names, want) {
		t.Errorf("templates = %v, want %v", names, want)
	}
	queries := seen()
	if len(queries) != 3 || !strings.Contains(queries[0], "fields=") || !strings.Contains(queries[0], "parameter_format") {
		t.Errorf("queries = %v", queries)
	}
}

func TestListTemplatesForeignNextUsesCursor(t *testing.T) {
	srv, seen := templatePages(t, map[string]string{
		"":   `{"data":[` + tplJSON(1, "a") + `],"paging":{"cursors":{"after":"c1"},"next":"https://elsewhere.example/v25.0/210987654321098/message_templates?after=c1"}}`,
		"c1": `{"data":[` + tplJSON(2, "b") + `],"paging":{"cursors":{"after":"c2"}}}`,
	})
	c := NewClient(ClientOptions{HTTPClient: srv.Client(), BaseURL: srv.URL, Version: "v25.0"})
	got, err := c.ListTemplates(t.Context(), "tok", "210987654321098")
	if err != nil || len(got) != 2 {
		t.Fatalf("ListTemplates = %d templates, %v", len(got), err)
	}
	if q := seen(); len(q) != 2 || !strings.Contains(q[1], "after=c1") {
		t.Errorf("queries = %v", q)
	}
}

func TestListTemplatesEndlessPaging(t *testing.T) {
	srv, _ := templatePages(t, map[string]string{
		"": `{"data":[],"paging":{"next":"{base}/v25.0/210987654321098/message_templates?limit=1"}}`,
	})
	c := NewClient(ClientOptions{HTTPClient: srv.Client(), BaseURL: srv.URL, Version: "v25.0"})
	if _, err := c.ListTemplates(t.Context(), "tok", "210987654321098"); err == nil || !strings.Contains(err.Error(), "does not end") {
		t.Errorf("endless paging: %v", err)
	}
}

func TestTemplateParams(t *testing.T) {
	positional := ParseTemplate([]byte(`{"id":"920070352646140","name":"order_shipped","language":"en_US","status":"APPROVED",
		"category":"UTILITY","components":[
		{"type":"HEADER","format":"TEXT","text":"Order {{1}}"},
		{"type":"BODY","text":"Hi {{1}}, order {{2}} ships {{3}}. Thanks {{1}}!","example":{"body_text":[["Lena","4711","today"]]}},
		{"type":"FOOTER","text":"Reply STOP to opt out"},
		{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop"},{"type":"URL","text":"Track","url":"https://t.example.com/{{1}}"},
			{"type":"PHONE_NUMBER","text":"Call","phone_number":"+4930123456"}]}]}`))
	if got := positional.BodyParams(); got.Count != 3 || len(got.Names) != 0 {
		t.Errorf("BodyParams = %+v", got)
	}
	if got := positional.HeaderParams(); got.Count != 1 {
		t.Errorf("HeaderParams = %+v", got)
	}
	if got := positional.ButtonParams(); len(got) != 1 || got[0].Index != 1 || got[0].Vars.Count != 1 {
		t.Errorf("ButtonParams = %+v", got)
	}
	if b := positional.Components[3].Buttons[2]; b.PhoneNumber != "+4930123456" || b.Type != "PHONE_NUMBER" {
		t.Errorf("phone button = %+v", b)
	}
	ok := []TemplateComponentParams{
		{Type: "header", Parameters: []TemplateParameter{TextParam("4711")}},
		{Type: "body", Parameters: []TemplateParameter{TextParam("Lena"), TextParam("4711"), TextParam("today")}},
		{Type: "button", SubType: "url", Index: 1, Parameters: []TemplateParameter{TextParam("4711")}},
	}
	if err := positional.CheckParams(ok); err != nil {
		t.Errorf("CheckParams(ok) = %v", err)
	}
	short := append([]TemplateComponentParams(nil), ok...)
	short[1] = TemplateComponentParams{Type: "body", Parameters: []TemplateParameter{TextParam("Lena")}}
	short = short[:2]
	err := positional.CheckParams(short)
	if !errors.Is(err, ErrInvalidMessage) || !strings.Contains(err.Error(), "body: the template expects 3 parameters, got 1") ||
		!strings.Contains(err.Error(), "button[1]") {
		t.Errorf("CheckParams(short) = %v", err)
	}

	named := ParseTemplate([]byte(`{"id":1,"name":"welcome","language":"de","status":"APPROVED","parameter_format":"NAMED",
		"components":[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Hallo {{first_name}}, Bestellung {{order_id}}, {{ first_name }}"}]}`))
	if got := named.BodyParams(); !named.Named() || got.Count != 2 || !reflect.DeepEqual(got.Names, []string{"first_name", "order_id"}) {
		t.Errorf("named BodyParams = %+v", got)
	}
	image := TemplateComponentParams{Type: "header", Parameters: []TemplateParameter{{Type: "image", Image: &MediaRef{ID: "1"}}}}
	body := TemplateComponentParams{Type: "body", Parameters: []TemplateParameter{NamedTextParam("first_name", "Lena"), NamedTextParam("order_id", "4711")}}
	if err := named.CheckParams([]TemplateComponentParams{image, body}); err != nil {
		t.Errorf("named ok: %v", err)
	}
	wrongName := TemplateComponentParams{Type: "body", Parameters: []TemplateParameter{NamedTextParam("first_name", "Lena"), NamedTextParam("order", "4711")}}
	video := TemplateComponentParams{Type: "header", Parameters: []TemplateParameter{{Type: "video", Video: &MediaRef{ID: "1"}}}}
	err = named.CheckParams([]TemplateComponentParams{video, wrongName})
	if err == nil || !strings.Contains(err.Error(), `"order_id" is missing`) || !strings.Contains(err.Error(), "header is image") {
		t.Errorf("named wrong = %v", err)
	}
}

func TestParseVars(t *testing.T) {
	tests := map[string]TemplateVars{
		"":                             {},
		"No variables":                 {},
		"{{1}} and {{3}}":              {Count: 3},
		"{{ 2 }}{{1}}":                 {Count: 2},
		"{{name}} {{name}} {{city_2}}": {Count: 2, Names: []string{"name", "city_2"}},
		"{single} {{}} {{a-b}}":        {},
	}
	for text, want := range tests {
		if got := ParseVars(text); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseVars(%q) = %+v, want %+v", text, got, want)
		}
	}
}

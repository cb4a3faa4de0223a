package switchboard

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestParseCSATRating(t *testing.T) {
	listReply := json.RawMessage(`{"from":"4915112345678","id":"wamid.X","type":"interactive",
		"interactive":{"type":"list_reply","list_reply":{"id":"csat:42:4","title":"4 – Good"}}}`)
	buttonReply := json.RawMessage(`{"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"csat:7:1","title":"1 – Very poor"}}}`)
	otherList := json.RawMessage(`{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"slot_morning","title":"Morning 8-12"}}}`)
	templateButton := json.RawMessage(`{"type":"button","button":{"payload":"rate-5","text":"Excellent"}}`)
	for _, tc := range []struct {
		name     string
		typ      string
		text     string
		payload  json.RawMessage
		rating   int
		surveyID int64
		ok       bool
	}{
		{"digit", TypeText, "5", nil, 5, 0, true},
		{"digit with spaces", TypeText, "  3 \n", nil, 3, 0, true},
		{"digit with bang", TypeText, "4!", nil, 4, 0, true},
		{"out of five", TypeText, "5/5", nil, 5, 0, true},
		{"keycap", TypeText, "5️⃣", nil, 5, 0, true},
		{"five stars", TypeText, "⭐⭐⭐⭐⭐", nil, 5, 0, true},
		{"two stars spaced", TypeText, "⭐ ⭐", nil, 2, 0, true},
		{"grin", TypeText, "😀", nil, 5, 0, true},
		{"disappointed", TypeText, "😞", nil, 1, 0, true},
		{"neutral", TypeText, "😐", nil, 3, 0, true},
		{"thumbs up with tone", TypeText, "👍🏽", nil, 5, 0, true},
		{"six is not a rating", TypeText, "6", nil, 0, 0, false},
		{"zero is not a rating", TypeText, "0", nil, 0, 0, false},
		{"sentence with a digit", TypeText, "I have 5 questions", nil, 0, 0, false},
		{"six stars", TypeText, "⭐⭐⭐⭐⭐⭐", nil, 0, 0, false},
		{"two faces", TypeText, "😀😞", nil, 0, 0, false},
		{"word", TypeText, "Excellent", nil, 0, 0, false},
		{"empty", TypeText, "", nil, 0, 0, false},
		{"list reply", "interactive", "4 – Good", listReply, 4, 42, true},
		{"button reply", "interactive", "1 – Very poor", buttonReply, 1, 7, true},
		{"another list", "interactive", "Morning 8-12", otherList, 0, 0, false},
		{"template quick reply", "button", "Excellent", templateButton, 5, 0, true},
		{"image", "image", "5", nil, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := ParseCSATReply(tc.typ, tc.text, tc.payload)
			if ok != tc.ok || r.Rating != tc.rating || r.SurveyID != tc.surveyID {
				t.Fatalf("ParseCSATReply(%q, %q) = %+v, %v; want rating %d survey %d, %v", tc.typ, tc.text, r, ok, tc.rating, tc.surveyID, tc.ok)
			}
			if rating, ok := ParseCSATRating(tc.typ, tc.text, tc.payload); rating != tc.rating || ok != tc.ok {
				t.Fatalf("ParseCSATRating = %d, %v", rating, ok)
			}
		})
	}
}

func TestCSATReplyIDRoundTrip(t *testing.T) {
	for r := 1; r <= 5; r++ {
		id := CSATReplyID(123456789, r)
		sid, rating, ok := ParseCSATReplyID(id)
		if !ok || sid != 123456789 || rating != r {
			t.Fatalf("%s → %d %d %v", id, sid, rating, ok)
		}
		if n := utf8.RuneCountInString(CSATRatingTitle(r)); n > 24 {
			t.Fatalf("title %q is %d characters, WhatsApp allows 24", CSATRatingTitle(r), n)
		}
	}
	for _, bad := range []string{"", "csat:", "csat:1", "csat:x:3", "csat:1:6", "csat:0:3", "other:1:3"} {
		if _, _, ok := ParseCSATReplyID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	if CSATRatingTitle(0) != "" || CSATRatingTitle(6) != "" {
		t.Fatal("titles exist only for 1–5")
	}
}

package load

import "testing"

func TestFrameHead(t *testing.T) {
	for _, tc := range []struct {
		in   string
		typ  string
		seq  int64
		okay bool
	}{
		{`{"type":"conversation.updated","seq":1042,"data":{"id":7}}`, "conversation.updated", 1042, true},
		{`{"type":"message.created","seq":9,"data":{}}`, "message.created", 9, true},
		{`{"type":"typing","data":{"on":true}}`, "", 0, false},
		{`{"type":"ack","id":"lg-1-2"}`, "", 0, false},
		{`{"seq":5,"type":"conversation.updated"}`, "", 0, false},
		{`{"type":"conversation.updated","seq":12`, "", 0, false},
		{`{"type":"conversation.updated","seq":-3,"data":{}}`, "", 0, false},
	} {
		typ, seq, ok := frameHead([]byte(tc.in))
		if typ != tc.typ || seq != tc.seq || ok != tc.okay {
			t.Errorf("%s: got %q %d %v", tc.in, typ, seq, ok)
		}
	}
}

func TestMessageFields(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  messageData
		found bool
	}{
		{`{"type":"message.created","seq":9,"data":{"id":4,"conversation_id":77,"channel_id":1,"direction":"inbound","type":"text",` +
			`"text":"a \"quoted\" {brace} , \\ end","reply_to":{"external_id":"wamid.NOT","n":[1,{"x":"]"}]},"private":false,` +
			`"external_id":"wamid.AB\u0043","payload":{"id":"wamid.ABC","external_id":"x"}}}`,
			messageData{ConversationID: 77, Direction: "inbound", ExternalID: "wamid.ABC"}, true},
		{`{"type":"message.created","seq":10,"data":{"id":5,"conversation_id":78,"direction":"outbound","external_id":"","status":null}}`,
			messageData{ConversationID: 78, Direction: "outbound"}, true},
		{`{"type":"message.created","seq":11,"data":{"id":5,"conversation_id":78,"direction":"inbound"}}`, messageData{}, false},
		{`{"type":"message.created","seq":12}`, messageData{}, false},
		{`{"type":"message.created","seq":13,"data":{"conversation_id":"x","direction":"inbound","external_id":"w"}}`, messageData{}, false},
		{`{"type":"message.created","seq":14,"data":{"text":"unterminated`, messageData{}, false},
	} {
		got, found := messageFields([]byte(tc.in))
		if found != tc.found || (found && got != tc.want) {
			t.Errorf("%s: got %+v %v, want %+v %v", tc.in, got, found, tc.want, tc.found)
		}
	}
}

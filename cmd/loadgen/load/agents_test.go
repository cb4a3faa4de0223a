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

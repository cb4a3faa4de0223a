package server

import (
	"encoding/json"
	"testing"

	"switchboard"
)

// TestEncodeEvent: a frame written without encoding/json is byte for byte what encoding/json writes,
// for event data as the store writes it (with encoding/json).
func TestEncodeEvent(t *testing.T) {
	msg, _ := json.Marshal(switchboard.Message{ID: 7, Text: "a \"quoted\" </script> & é \u2028 \n", Payload: json.RawMessage(`{"a": [1, 2]}`)})
	for _, ev := range []switchboard.Event{
		{Type: switchboard.EventMessageCreated, Seq: 42, Data: msg},
		{Type: switchboard.EventConversationUpdated, Seq: 9007199254740993, Data: json.RawMessage(`{"id":1}`)},
		{Type: "presence.updated", Seq: 0},
		{Type: `odd"type`, Seq: 1, Data: json.RawMessage(`[1,2]`)},
	} {
		got, err := encodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		data := ev.Data
		if len(data) == 0 {
			data = json.RawMessage(`{}`)
		}
		want, _ := json.Marshal(eventFrame{Type: ev.Type, Seq: ev.Seq, Data: data})
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", ev.Type, got, want)
		}
	}
}

package switchboard

import "testing"

func TestAIAgentEndpoint(t *testing.T) {
	const openai, serverKey = "https://api.openai.com/v1", "sk-server"
	cases := []struct {
		name              string
		agent             AIAgent
		wantBase, wantKey string
	}{
		{"everything from the server", AIAgent{}, openai, serverKey},
		{"its own key on the server's URL", AIAgent{APIKey: "sk-own", HasAPIKey: true}, openai, "sk-own"},
		{"the server's URL spelled differently", AIAgent{BaseURL: "HTTPS://API.OpenAI.com/v1/"}, "HTTPS://API.OpenAI.com/v1/", serverKey},
		{"another host without a key", AIAgent{BaseURL: "http://localhost:11434/v1"}, "http://localhost:11434/v1", ""},
		{"another host with its own key", AIAgent{BaseURL: "http://vllm:8000/v1", APIKey: "local", HasAPIKey: true}, "http://vllm:8000/v1", "local"},
		{"a key that is set but not loaded (API view)", AIAgent{HasAPIKey: true}, openai, ""},
		{"another path on the server's host", AIAgent{BaseURL: "https://api.openai.com/v2"}, "https://api.openai.com/v2", ""},
	}
	for _, tc := range cases {
		base, key := tc.agent.Endpoint(openai, serverKey)
		if base != tc.wantBase || key != tc.wantKey {
			t.Errorf("%s: Endpoint = %q, %q; want %q, %q", tc.name, base, key, tc.wantBase, tc.wantKey)
		}
	}
}

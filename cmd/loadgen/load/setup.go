package load

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/whatsapp/graphtest"
)

// SetupConfig says what to create on the server before a load.
type SetupConfig struct {
	// BaseURL is the running server (http://host:port).
	BaseURL string
	// AdminEmail and AdminPassword sign in an admin; AdminToken (a bearer API token of an admin) is
	// used instead when set.
	AdminEmail, AdminPassword, AdminToken string
	// Fake is the Graph API the server calls (its SWITCHBOARD_GRAPH_API_URL); the channel's number is
	// registered there so sends, media downloads and templates work.
	Fake *graphtest.Server
	// Agents is how many agents join the channel; Capacity their open-conversation limit.
	Agents   int
	Capacity int
	// Greeting turns the channel's greeting automation on (an automatic reply per new conversation).
	Greeting bool
	// Prefix makes this run's numbers, contacts and agent emails distinct from other runs'.
	Prefix string
	// HTTPClient is used for the API; nil means a default client.
	HTTPClient *http.Client
	Logf       func(format string, args ...any)
}

// Env is what Setup created: the channel, its fake number and the agents with their tokens.
type Env struct {
	API        *API
	ChannelID  int64
	Number     graphtest.Number
	WebhookURL string
	Agents     []AgentCred
	Prefix     string
}

// RandomPrefix returns a short numeric prefix that keeps one run's phone numbers apart from others'.
func RandomPrefix() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9000))
	return fmt.Sprintf("%d", 1000+n.Int64())
}

// Setup signs in, connects a WhatsApp channel backed by the fake, and creates the agents (members of
// the channel, each with an API token for its websocket).
func Setup(ctx context.Context, cfg SetupConfig) (*Env, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Prefix == "" {
		cfg.Prefix = RandomPrefix()
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 50
	}
	api := NewAPI(cfg.BaseURL, cfg.HTTPClient)
	if cfg.AdminToken != "" {
		api.UseToken(cfg.AdminToken)
	} else if err := api.Login(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
		return nil, err
	}
	p := cfg.Prefix
	n := graphtest.Number{PhoneNumberID: "1065" + p + "0000", DisplayPhoneNumber: "1555" + p + "000", WABAID: "1022" + p + "0000",
		Token: "EAAG-loadgen-" + p + "-" + rand.Text(), AppSecret: "loadgen-app-secret-" + rand.Text()}
	ch, err := api.CreateChannel(ctx, "Load "+p, "+"+n.DisplayPhoneNumber, n.PhoneNumberID, n.WABAID, n.Token, n.AppSecret)
	if err != nil {
		return nil, fmt.Errorf("create channel: %w", err)
	}
	env := &Env{API: api, ChannelID: ch.ID, Number: n, Prefix: p,
		WebhookURL: api.Base() + fmt.Sprintf("/webhooks/whatsapp/%d", ch.ID)}
	// Meta posts to the URL the admin registered; the loadgen posts to the server it was given (the
	// public URL may name a proxy the loadgen does not go through).
	env.Number.WebhookURL = env.WebhookURL
	if cfg.Fake != nil {
		cfg.Fake.RegisterNumber(env.Number)
	}
	if cfg.Greeting {
		if err := api.EnableGreeting(ctx, ch.ID); err != nil {
			return nil, fmt.Errorf("enable greeting: %w", err)
		}
	}
	agents, err := createAgents(ctx, api, ch.ID, cfg.Agents, cfg.Capacity, p)
	if err != nil {
		return nil, err
	}
	env.Agents = agents
	cfg.Logf("setup: channel %d (phone number id %s), %d agents", ch.ID, n.PhoneNumberID, len(agents))
	return env, nil
}

// createAgents creates n agents in parallel (the server hashes each password, which takes a while).
func createAgents(ctx context.Context, api *API, channelID int64, n, capacity int, prefix string) ([]AgentCred, error) {
	out := make([]AgentCred, n)
	errs := make([]error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i], errs[i] = createAgent(ctx, api, channelID, capacity, prefix, i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return out, errors.Join(errs...)
}

func createAgent(ctx context.Context, api *API, channelID int64, capacity int, prefix string, i int) (AgentCred, error) {
	name := fmt.Sprintf("%s Agent %d", firstNames[i%len(firstNames)], i+1)
	email := fmt.Sprintf("loadgen-%s-%d@example.com", strings.ToLower(prefix), i+1)
	id, err := api.CreateAgent(ctx, name, email, "loadgen-"+rand.Text())
	if err != nil {
		return AgentCred{}, fmt.Errorf("create agent %d: %w", i+1, err)
	}
	if capacity > 0 && channelID > 0 {
		if err := api.AddMember(ctx, channelID, id, capacity); err != nil {
			return AgentCred{}, fmt.Errorf("add agent %d to channel: %w", i+1, err)
		}
	}
	tok, err := api.CreateToken(ctx, id, "loadgen")
	if err != nil {
		return AgentCred{}, fmt.Errorf("token for agent %d: %w", i+1, err)
	}
	return AgentCred{ID: id, Token: tok}, nil
}

// newDialer returns the websocket dialer of the load's agents.
func newDialer() *websocket.Dialer {
	return &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 16 << 10, WriteBufferSize: 4 << 10}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

// TestAssignAcrossTwoServers is issue 5 end to end: two real Switchboard processes share one
// PostgreSQL database; five agents of capacity 10 on a round-robin channel are online, three on the
// first process and two on the second. 16 goroutines deliver 200 new customers' webhooks, alternating
// between the processes. Then: 50 conversations are assigned, 10 to each agent, in a strict rotation
// (at every point of the order in which the claims committed, the agents' counts differ by at most
// one); each assigned once; the 150 others wait. Agents then resolve conversations a few at a time,
// concurrently and through both processes; after each round exactly as many waiting conversations are
// assigned as were freed, and they are the oldest waiting ones, until the queue is empty. Every
// conversation ends up assigned exactly once (its activity lines, and the conversation.assigned
// frames an admin's websocket received). PostgreSQL only. (While both processes' presence shares one
// instance id, each agent also keeps a tab on the other process: see the note below.)
func TestAssignAcrossTwoServers(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	const (
		nAgents   = 5
		capacity  = 10
		nConvs    = 200
		nSenders  = 16
		agentPass = "agent-password-e2e"
	)
	began := time.Now()
	one := startE2E(t, dsn)
	two := one.replica()
	servers := []*e2e{one, two}
	chPath := fmt.Sprintf("/api/v1/channels/%d", one.chID)

	// Only the five agents are members of the channel.
	admin := one.adminID()
	var members struct {
		Data []switchboard.ChannelMember `json:"data"`
	}
	one.call("GET", chPath+"/members", nil, http.StatusOK, &members)
	for _, m := range members.Data {
		if m.AgentID == admin {
			one.call("DELETE", fmt.Sprintf("%s/members/%d", chPath, admin), nil, http.StatusNoContent, nil)
		}
	}
	ids := make([]int64, nAgents)
	isAgent := map[int64]bool{}
	for i := range ids {
		var a switchboard.Agent
		one.call("POST", "/api/v1/agents", map[string]string{"name": fmt.Sprintf("Agent %d", i+1),
			"email": fmt.Sprintf("agent%d@example.com", i+1), "password": agentPass, "role": "agent"}, http.StatusCreated, &a)
		one.call("POST", chPath+"/members", map[string]any{"agent_id": a.ID, "capacity": capacity}, http.StatusCreated, nil)
		ids[i], isAgent[a.ID] = a.ID, true
	}
	one.call("PUT", chPath+"/assignment", map[string]any{"mode": switchboard.AssignByRoundRobin}, http.StatusOK, nil)
	one.call("GET", chPath+"/members", nil, http.StatusOK, &members)
	if len(members.Data) != nAgents {
		t.Fatalf("the channel has %d members, want the %d agents: %+v", len(members.Data), nAgents, members.Data)
	}
	for _, m := range members.Data {
		if !isAgent[m.AgentID] || m.Capacity != capacity {
			t.Fatalf("member %+v, want one of the agents %v with capacity %d", m, ids, capacity)
		}
	}

	// The admin watches every conversation.assigned frame, on the first process.
	assignedFrames := one.countAssignedFrames()

	// Agents 1, 3, 5 sign in and connect to the first process, 2 and 4 to the second.
	agents := map[int64]*e2e{}
	evicted := make(chan string, nAgents)
	for i, id := range ids {
		ag := servers[i%2].signInAs(fmt.Sprintf("agent%d@example.com", i+1), agentPass)
		ag.stayOnline(fmt.Sprintf("agent %d", i+1), evicted)
		agents[id] = ag
	}
	presenceFrom := time.Now()
	allOnline := func() bool {
		for _, s := range servers {
			var list struct {
				Data []struct {
					ID        int64 `json:"id"`
					Connected bool  `json:"connected"`
				} `json:"data"`
			}
			s.call("GET", "/api/v1/agents", nil, http.StatusOK, &list)
			n := 0
			for _, a := range list.Data {
				if isAgent[a.ID] && a.Connected {
					n++
				}
			}
			if n != nAgents {
				return false
			}
		}
		return true
	}
	// Presence syncs between the processes every 5 s: each sees the other's agents online within two
	// syncs. (Both live in one OS process here; their presence instances differ by a random suffix.)
	waitFor(t, 20*time.Second, "every agent online on both processes", allOnline)
	t.Logf("both processes saw the %d agents online after %v", nAgents, time.Since(presenceFrom).Round(time.Millisecond))

	// 200 new customers write at once, through both processes.
	floodFrom := time.Now()
	waID := func(i int) string { return fmt.Sprintf("49151%07d", i) }
	ackOrder := make([]int64, nConvs) // customer i's webhook was the ackOrder[i]-th acknowledged
	var acks atomic.Int64
	var errMu sync.Mutex
	var errs []error
	work := make(chan int)
	var wg sync.WaitGroup
	for range nSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body, err := one.fake.Inbound(one.number.PhoneNumberID,
					graphtest.TextMessage(waID(i), fmt.Sprintf("Customer %03d", i), fmt.Sprintf("Hello, I am customer %d", i)))
				if err == nil {
					err = servers[i%2].deliver(body)
				}
				if err != nil {
					errMu.Lock()
					errs = append(errs, fmt.Errorf("customer %d: %w", i, err))
					errMu.Unlock()
					continue
				}
				ackOrder[i] = acks.Add(1)
			}
		}()
	}
	for i := range nConvs {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	// Quiet: every conversation routed (assigned or waiting) and no inbound job left.
	var open []switchboard.Conversation
	one.eventually("the 200 conversations routed and no inbound job left", func() bool {
		if one.jobsLeft(switchboard.InboundJobKind) {
			return false
		}
		open = one.openConversations()
		if len(open) != nConvs {
			return false
		}
		for _, c := range open {
			if c.Assignee == nil && c.WaitingSince == nil {
				return false
			}
		}
		return true
	})
	t.Logf("200 webhooks acknowledged and routed in %v", time.Since(floodFrom).Round(time.Millisecond))
	if n := one.deadJobs(); n > 0 {
		t.Fatalf("%d dead jobs after the flood", n)
	}

	byWAID := map[string]switchboard.Conversation{}
	customer := map[int64]int{} // conversation id → customer index
	for _, c := range open {
		if c.Contact == nil {
			t.Fatalf("conversation %d without its contact", c.ID)
		}
		if _, dup := byWAID[c.Contact.WaID]; dup {
			t.Fatalf("two open conversations with %s", c.Contact.WaID)
		}
		byWAID[c.Contact.WaID] = c
	}
	for i := range nConvs {
		c, ok := byWAID[waID(i)]
		if !ok {
			t.Fatalf("no conversation with customer %d (%s)", i, waID(i))
		}
		customer[c.ID] = i
	}

	// 50 assigned, 10 each, none above capacity; 150 waiting.
	load, waiting := holdings(t, open, isAgent)
	assertFull(t, "after the flood", load, ids, capacity)
	if len(waiting) != nConvs-nAgents*capacity {
		t.Fatalf("%d conversations wait, want %d", len(waiting), nConvs-nAgents*capacity)
	}

	// Each conversation assigned once: one "Assigned to" activity line for the 50 (round-robin), none
	// and one "Waiting for" line for the 150.
	type claim struct {
		msgID, agent int64
	}
	var claims []claim
	for _, c := range open {
		assigned, waited := activity(one, c.ID)
		switch {
		case c.Assignee != nil:
			if len(assigned) != 1 || !strings.Contains(assigned[0].Text, "next in the round-robin") || len(waited) != 0 {
				t.Fatalf("conversation %d (assigned to %d): assignment lines %q, waiting lines %q; want one round-robin assignment",
					c.ID, c.Assignee.ID, texts(assigned), texts(waited))
			}
			claims = append(claims, claim{assigned[0].ID, c.Assignee.ID})
		default:
			if len(assigned) != 0 || len(waited) != 1 {
				t.Fatalf("waiting conversation %d: assignment lines %q, waiting lines %q; want one waiting line",
					c.ID, texts(assigned), texts(waited))
			}
		}
	}

	// Round-robin: the activity line is written while the claim holds the channel's rotation, so its
	// id orders the claims as they committed. At every step the agents' counts differ by at most one.
	sort.Slice(claims, func(i, j int) bool { return claims[i].msgID < claims[j].msgID })
	counts := map[int64]int{}
	strict := true
	seq := make([]string, len(claims))
	for k, cl := range claims {
		counts[cl.agent]++
		lo, hi := nConvs, 0
		for _, id := range ids {
			lo, hi = min(lo, counts[id]), max(hi, counts[id])
		}
		if hi-lo > 1 {
			t.Fatalf("after %d round-robin assignments the counts are %v: they differ by more than one (order %v)", k+1, counts, seq[:k+1])
		}
		seq[k] = fmt.Sprint(indexOf(ids, cl.agent) + 1)
		if cl.agent != ids[k%nAgents] {
			strict = false
		}
	}
	t.Logf("round-robin order of the 50 claims (agent numbers): %s (strict 1..5 cycle: %v)", strings.Join(seq, ""), strict)

	// How the queue's order (when each started waiting) compares with the order of the webhooks.
	sortWaiting(waiting)
	inversions := 0
	for k := 1; k < len(waiting); k++ {
		if ackOrder[customer[waiting[k].ID]] < ackOrder[customer[waiting[k-1].ID]] {
			inversions++
		}
	}
	byCreation := 0
	for k := 1; k < len(waiting); k++ {
		if waiting[k].CreatedAt.Before(waiting[k-1].CreatedAt) {
			byCreation++
		}
	}
	t.Logf("queue order (waiting_since) vs webhook acknowledgement order: %d adjacent inversions among %d waiting; vs created_at: %d",
		inversions, len(waiting), byCreation)

	// Capacity frees: each round, agents resolve a few conversations at once (k = 1..5, on distinct
	// agents, through alternating processes); the drains give exactly as many waiting conversations,
	// the oldest, to the agents with room.
	drainFrom := time.Now()
	resolved := map[int64]bool{}
	fromQueue := map[int64]bool{}
	rounds := 0
	for round := 0; len(waiting) > 0; round++ {
		rounds++
		k := round%nAgents + 1
		var picks []switchboard.Conversation
		for j := range k {
			agent := ids[(round+j)%nAgents]
			held := load[agent]
			if len(held) == 0 {
				t.Fatalf("round %d: agent %d holds nothing", round, agent)
			}
			picks = append(picks, held[0])
		}
		errs = nil
		var rg sync.WaitGroup
		for j, c := range picks {
			rg.Add(1)
			go func() {
				defer rg.Done()
				via := servers[(round+j)%2]
				if err := agents[c.Assignee.ID].on(via).try("POST", fmt.Sprintf("/api/v1/conversations/%d/resolve", c.ID), nil, http.StatusOK); err != nil {
					errMu.Lock()
					errs = append(errs, err)
					errMu.Unlock()
				}
			}()
		}
		rg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, c := range picks {
			resolved[c.ID] = true
		}

		before := waiting
		open = one.openConversations()
		for _, c := range open {
			if resolved[c.ID] {
				t.Fatalf("round %d: resolved conversation %d is still open", round, c.ID)
			}
		}
		load, waiting = holdings(t, open, isAgent)
		sortWaiting(waiting)
		want := min(k, len(before))
		wantIDs := map[int64]bool{}
		for _, c := range before[:want] {
			wantIDs[c.ID] = true
		}
		var got []int64
		stillWaiting := map[int64]bool{}
		for _, c := range waiting {
			stillWaiting[c.ID] = true
		}
		for _, c := range before {
			if !stillWaiting[c.ID] {
				got = append(got, c.ID)
			}
		}
		if len(got) != want {
			t.Fatalf("round %d: %d resolved, %d of %d waiting conversations were assigned (%v), want %d", round, k, len(got), len(before), got, want)
		}
		for _, id := range got {
			if !wantIDs[id] {
				t.Fatalf("round %d: the queue gave out %v, want the %d oldest waiting %v", round, got, want, keys(wantIDs))
			}
			fromQueue[id] = true
		}
		if len(waiting) > 0 {
			assertFull(t, fmt.Sprintf("round %d", round), load, ids, capacity)
		} else {
			for _, id := range ids {
				if n := len(load[id]); n > capacity {
					t.Fatalf("round %d: agent %d holds %d conversations, capacity %d", round, id, n, capacity)
				}
			}
		}
	}
	t.Logf("the queue of %d drained in %d rounds (%d resolves) in %v", nConvs-nAgents*capacity, rounds, len(resolved),
		time.Since(drainFrom).Round(time.Millisecond))

	// In the end every conversation was assigned exactly once: one activity line each (from the queue
	// for those that waited), and one conversation.assigned frame each on the admin's websocket.
	for i := range nConvs {
		c := byWAID[waID(i)]
		assigned, _ := activity(one, c.ID)
		if len(assigned) != 1 {
			t.Fatalf("conversation %d: assignment lines %q, want exactly one", c.ID, texts(assigned))
		}
		if fromQueue[c.ID] != strings.Contains(assigned[0].Text, "from the queue") {
			t.Fatalf("conversation %d (waited: %v): assignment line %q", c.ID, fromQueue[c.ID], assigned[0].Text)
		}
	}
	one.eventually("a conversation.assigned frame for each of the 200 conversations", func() bool {
		return len(assignedFrames.snapshot()) >= nConvs
	})
	for id, n := range assignedFrames.snapshot() {
		if _, ok := customer[id]; !ok || n != 1 {
			t.Fatalf("the admin's websocket saw %d conversation.assigned frames for conversation %d, want 1 (ours: %v)", n, id, ok)
		}
	}
	select {
	case who := <-evicted:
		t.Logf("note: %s's websocket closed during the test", who)
	default:
	}
	t.Logf("total %v", time.Since(began).Round(time.Millisecond))
}

// holdings splits open conversations into those each agent holds (oldest id first) and those
// waiting; any other owner fails the test.
func holdings(t *testing.T, open []switchboard.Conversation, isAgent map[int64]bool) (map[int64][]switchboard.Conversation, []switchboard.Conversation) {
	t.Helper()
	load := map[int64][]switchboard.Conversation{}
	var waiting []switchboard.Conversation
	for _, c := range open {
		switch {
		case c.Assignee == nil && c.WaitingSince != nil:
			waiting = append(waiting, c)
		case c.Assignee != nil && c.Assignee.Kind == switchboard.AssigneeHuman && isAgent[c.Assignee.ID]:
			load[c.Assignee.ID] = append(load[c.Assignee.ID], c)
		default:
			t.Fatalf("conversation %d: assignee %+v, waiting since %v", c.ID, c.Assignee, c.WaitingSince)
		}
	}
	for _, held := range load {
		sort.Slice(held, func(i, j int) bool { return held[i].ID < held[j].ID })
	}
	return load, waiting
}

// assertFull checks that every agent holds exactly their capacity.
func assertFull(t *testing.T, when string, load map[int64][]switchboard.Conversation, ids []int64, capacity int) {
	t.Helper()
	for _, id := range ids {
		if n := len(load[id]); n != capacity {
			counts := map[int64]int{}
			for _, a := range ids {
				counts[a] = len(load[a])
			}
			t.Fatalf("%s: agent %d holds %d conversations, want %d (all: %v)", when, id, n, capacity, counts)
		}
	}
}

// sortWaiting orders waiting conversations as the queue does: by when they started waiting, then id.
func sortWaiting(w []switchboard.Conversation) {
	sort.Slice(w, func(i, j int) bool {
		if !w[i].WaitingSince.Equal(*w[j].WaitingSince) {
			return w[i].WaitingSince.Before(*w[j].WaitingSince)
		}
		return w[i].ID < w[j].ID
	})
}

// activity returns a conversation's "Assigned to …" and "Waiting for …" activity lines.
func activity(e *e2e, convID int64) (assigned, waited []switchboard.Message) {
	for _, m := range e.messages(convID) {
		if m.Type != switchboard.TypeActivity {
			continue
		}
		switch {
		case strings.HasPrefix(m.Text, "Assigned to "):
			assigned = append(assigned, m)
		case strings.HasPrefix(m.Text, "Waiting for "):
			waited = append(waited, m)
		}
	}
	return assigned, waited
}

func texts(ms []switchboard.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func indexOf(ids []int64, id int64) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// waitFor polls cond until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signInAs returns e's process signed in as another agent (its own cookie jar and CSRF token).
func (e *e2e) signInAs(email, password string) *e2e {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	as := *e
	as.http, as.csrf = &http.Client{Jar: jar}, ""
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	as.call("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &me)
	as.csrf = me.CSRFToken
	return &as
}

// on returns the same signed-in session talking to another process (the session is in the shared
// database; cookies do not depend on the port).
func (e *e2e) on(other *e2e) *e2e {
	cp := *e
	cp.base = other.base
	return &cp
}

// stayOnline opens the agent's websocket (online presence) and reads every frame until the test
// ends, so the hub never counts it slow; if the server closes it, who is reported on closed.
func (e *e2e) stayOnline(who string, closed chan<- string) {
	e.t.Helper()
	conn := e.dialWS()
	var ending atomic.Bool
	e.t.Cleanup(func() { ending.Store(true); conn.Close() })
	var hello wsFrame
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		e.t.Fatalf("%s: first frame %+v (%v), want hello", who, hello, err)
	}
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				if !ending.Load() {
					select {
					case closed <- who + " (" + err.Error() + ")":
					default:
					}
				}
				return
			}
		}
	}()
}

// frameCounts counts conversation.assigned frames per conversation.
type frameCounts struct {
	mu sync.Mutex
	n  map[int64]int
}

func (f *frameCounts) snapshot() map[int64]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[int64]int, len(f.n))
	for k, v := range f.n {
		out[k] = v
	}
	return out
}

// countAssignedFrames opens the admin's websocket and counts the conversation.assigned frames it
// receives, per conversation.
func (e *e2e) countAssignedFrames() *frameCounts {
	e.t.Helper()
	conn := e.dialWS()
	e.t.Cleanup(func() { conn.Close() })
	fc := &frameCounts{n: map[int64]int{}}
	var hello wsFrame
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		e.t.Fatalf("admin socket: first frame %+v (%v), want hello", hello, err)
	}
	go func() {
		for {
			var f wsFrame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			if f.Type != switchboard.EventConversationAssigned {
				continue
			}
			var c struct {
				ID int64 `json:"id"`
			}
			json.Unmarshal(f.Data, &c)
			fc.mu.Lock()
			fc.n[c.ID]++
			fc.mu.Unlock()
		}
	}()
	return fc
}

// deliver posts a customer's webhook, signed as Meta signs it, to this process's endpoint.
func (e *e2e) deliver(body []byte) error {
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/webhooks/whatsapp/%d", e.base, e.chID), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, e.number.AppSecret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %d: %s", res.StatusCode, data)
	}
	return nil
}

// try is call for other goroutines: it returns an error instead of failing the test.
func (e *e2e) try(method, path string, body any, want int) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if e.csrf != "" {
		req.Header.Set("X-CSRF-Token", e.csrf)
	}
	res, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	return nil
}

// openConversations reads every open conversation of the channel, page by page (admin).
func (e *e2e) openConversations() []switchboard.Conversation {
	e.t.Helper()
	var all []switchboard.Conversation
	cursor := ""
	for {
		var page struct {
			Data       []switchboard.Conversation `json:"data"`
			NextCursor string                     `json:"next_cursor"`
		}
		e.call("GET", fmt.Sprintf("/api/v1/conversations?status=open&channel_id=%d&limit=100&cursor=%s", e.chID, url.QueryEscape(cursor)),
			nil, http.StatusOK, &page)
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// jobsLeft reports whether a job of this kind is queued or running (admin).
func (e *e2e) jobsLeft(kind string) bool {
	e.t.Helper()
	for _, state := range []string{switchboard.JobQueued, switchboard.JobRunning} {
		var jobs struct {
			Data []json.RawMessage `json:"data"`
		}
		e.call("GET", "/api/v1/jobs?state="+state+"&limit=1&kind="+url.QueryEscape(kind), nil, http.StatusOK, &jobs)
		if len(jobs.Data) > 0 {
			return true
		}
	}
	return false
}

// deadJobs counts dead jobs (admin).
func (e *e2e) deadJobs() int {
	e.t.Helper()
	var jobs struct {
		Data []json.RawMessage `json:"data"`
	}
	e.call("GET", "/api/v1/jobs?state="+switchboard.JobDead+"&limit=500", nil, http.StatusOK, &jobs)
	return len(jobs.Data)
}

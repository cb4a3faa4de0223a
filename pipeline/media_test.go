package pipeline_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/pipeline"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

// recordedEvents is a Publisher that keeps what it is given.
type recordedEvents struct {
	mu     sync.Mutex
	events []switchboard.Event
}

func (r *recordedEvents) Publish(_ context.Context, evs []switchboard.Event) {
	r.mu.Lock()
	r.events = append(r.events, evs...)
	r.mu.Unlock()
}

func (r *recordedEvents) take() []switchboard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// flakyMediaStore fails its first ResolvePendingMedia, as a database restarting would.
type flakyMediaStore struct {
	*store.Store
	failed bool
}

func (f *flakyMediaStore) ResolvePendingMedia(ctx context.Context, id int64, media switchboard.Media) (*switchboard.Message, []switchboard.Event, error) {
	if !f.failed {
		f.failed = true
		return nil, nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "The database is restarting.")
	}
	return f.Store.ResolvePendingMedia(ctx, id, media)
}

// mediaFixture is a channel whose number the Graph API fake knows, and a downloader on both.
type mediaFixture struct {
	store  *store.Store
	fake   *graphtest.Server
	client *whatsapp.Client
	ch     *switchboard.Channel
	media  *pipeline.Media
	events *recordedEvents
	dir    string
}

func newMediaFixture(t *testing.T, s *store.Store) *mediaFixture {
	t.Helper()
	fake := graphtest.New(graphtest.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	ch := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support", PhoneNumber: "+14155550123",
		PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIKey: "EAAG-first-token",
		AppSecret: "app-secret", VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad,
		DefaultCapacity: 10, Settings: switchboard.DefaultChannelSettings()}
	if err := s.CreateChannel(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	fake.RegisterNumber(graphtest.Number{PhoneNumberID: ch.PhoneNumberID, DisplayPhoneNumber: "14155550123", WABAID: ch.BusinessAccountID,
		Token: ch.APIKey, AppSecret: ch.AppSecret})
	client := whatsapp.NewClient(whatsapp.ClientOptions{BaseURL: srv.URL})
	events := &recordedEvents{}
	dir := t.TempDir()
	// Channels are kept for the whole test, so that a token changed meanwhile is seen only when Meta refuses the old one.
	m := pipeline.NewMedia(pipeline.MediaOptions{Store: s, Graph: &pipeline.Graph{Meta: client}, Dir: dir, Publisher: events, ChannelTTL: time.Hour})
	return &mediaFixture{store: s, fake: fake, client: client, ch: ch, media: m, events: events, dir: dir}
}

// receive stores a customer's photo (Meta's media id mediaID) and returns its message.
func (f *mediaFixture) receive(t *testing.T, wamid, mediaID, sha string) *switchboard.Message {
	t.Helper()
	now := time.Now()
	in := switchboard.InboundMessage{WaID: "33612345678", ProfileName: "Marie", ExternalID: wamid, Timestamp: now,
		Message: &switchboard.Message{Type: "image", Text: "the broken part", ExternalID: wamid, Timestamp: &now,
			Media: &switchboard.Media{ExternalID: mediaID, MimeType: "image/png", SHA256: sha, Status: switchboard.MediaPending}}}
	if _, err := f.store.IngestInbound(t.Context(), f.ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{in}}); err != nil {
		t.Fatal(err)
	}
	convs, _, err := f.store.ListConversations(t.Context(), store.ConversationFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	msgs, _, err := f.store.ListMessages(t.Context(), convs[0].ID, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.ExternalID == wamid {
			return m
		}
	}
	t.Fatalf("message %s not stored", wamid)
	return nil
}

// mediaJob is the job the ingestion queued for msg.
func (f *mediaFixture) mediaJob(t *testing.T, msg *switchboard.Message) *switchboard.Job {
	t.Helper()
	jobs, err := f.store.ListJobs(t.Context(), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		var p switchboard.MediaJob
		if j.Kind == switchboard.MediaJobKind && json.Unmarshal(j.Payload, &p) == nil && p.MessageID == msg.ID {
			j.Attempts = 1
			return j
		}
	}
	t.Fatalf("no media job for message %d among %d jobs", msg.ID, len(jobs))
	return nil
}

// TestMediaFetch: the download job works from the attachment its payload carries (or, for a job of an
// earlier version, from the message), stores the bytes, marks the attachment ready once with one
// message.updated event, and changes nothing when it runs again.
func TestMediaFetch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := newMediaFixture(t, s)
		photo := []byte("\x89PNG\r\n\x1a\nthe-broken-part")
		sha := f.fake.PutMedia("1234567890123456", "image/png", photo)
		msg := f.receive(t, "wamid.photo", "1234567890123456", sha)
		job := f.mediaJob(t, msg)
		var p switchboard.MediaJob
		json.Unmarshal(job.Payload, &p)
		if p.ChannelID != f.ch.ID || p.Media == nil || p.Media.ExternalID != "1234567890123456" || p.Media.Status != switchboard.MediaPending {
			t.Fatalf("job payload: %s", job.Payload)
		}
		if err := f.media.Fetch(ctx, job); err != nil {
			t.Fatal(err)
		}
		got, err := s.Message(ctx, msg.ID)
		if err != nil || got.Media == nil || got.Media.Status != switchboard.MediaReady || got.Media.Size != int64(len(photo)) ||
			got.Text != "the broken part" {
			t.Fatalf("after the download: %+v %v", got, err)
		}
		if b, err := os.ReadFile(f.media.Path(got.Media.SHA256)); err != nil || string(b) != string(photo) {
			t.Fatalf("stored bytes: %q %v", b, err)
		}
		evs := f.events.take()
		if len(evs) != 1 || evs[0].Type != switchboard.EventMessageUpdated || evs[0].Seq == 0 || evs[0].ConversationID != msg.ConversationID {
			t.Fatalf("events: %+v", evs)
		}
		var shown switchboard.Message
		if err := json.Unmarshal(evs[0].Data, &shown); err != nil || shown.ID != msg.ID || shown.Media == nil ||
			shown.Media.Status != switchboard.MediaReady || shown.Media.URL == "" {
			t.Fatalf("event data: %s %v", evs[0].Data, err)
		}

		// The same job again (its lease expired while it ran): nothing changes, nothing is announced.
		if err := f.media.Fetch(ctx, job); err != nil {
			t.Fatal(err)
		}
		if evs := f.events.take(); len(evs) != 0 {
			t.Fatalf("a second run announced %+v", evs)
		}

		// Meta down: the job fails and will be tried again, the attachment still pending; on its last
		// attempt the attachment becomes unavailable.
		down := f.receive(t, "wamid.down", "4234567890123456", f.fake.PutMedia("4234567890123456", "image/png", []byte("later")))
		downJob := f.mediaJob(t, down)
		f.fake.Down(true)
		if err := f.media.Fetch(ctx, downJob); err == nil {
			t.Fatal("a download while Meta is down succeeded")
		}
		if got, _ := s.Message(ctx, down.ID); got.Media == nil || got.Media.Status != switchboard.MediaPending {
			t.Fatalf("after a failed attempt: %+v", got.Media)
		}
		downJob.Attempts = downJob.MaxAttempts
		f.media.Fetch(ctx, downJob)
		f.fake.Down(false)
		if got, _ := s.Message(ctx, down.ID); got.Media == nil || got.Media.Status != switchboard.MediaUnavailable {
			t.Fatalf("after the last attempt: %+v", got.Media)
		}
		f.events.take()

		// Its worker stopped on the last attempt (the job was buried): the attachment is unavailable,
		// announced once; a second report changes nothing.
		crashed := f.receive(t, "wamid.crashed", "6234567890123456", f.fake.PutMedia("6234567890123456", "image/png", []byte("never")))
		crashedJob := f.mediaJob(t, crashed)
		for range 2 {
			if err := f.media.Buried(ctx, crashedJob); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := s.Message(ctx, crashed.ID); got.Media == nil || got.Media.Status != switchboard.MediaUnavailable {
			t.Fatalf("after its job was buried: %+v", got.Media)
		}
		if evs := f.events.take(); len(evs) != 1 || evs[0].Type != switchboard.EventMessageUpdated {
			t.Fatalf("a buried download announced %+v", evs)
		}

		// The database failing as the result is recorded: tried again (not the attachment given up).
		flaky := &flakyMediaStore{Store: s}
		m := pipeline.NewMedia(pipeline.MediaOptions{Store: flaky, Graph: &pipeline.Graph{Meta: f.client}, Dir: f.dir})
		later := f.receive(t, "wamid.db", "5234567890123456", f.fake.PutMedia("5234567890123456", "image/png", []byte("db")))
		dbJob := f.mediaJob(t, later)
		if err := m.Fetch(ctx, dbJob); err == nil {
			t.Fatal("recording the download while the database fails succeeded")
		}
		if got, _ := s.Message(ctx, later.ID); got.Media == nil || got.Media.Status != switchboard.MediaPending {
			t.Fatalf("after the database failed: %+v", got.Media)
		}
		if err := m.Fetch(ctx, dbJob); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Message(ctx, later.ID); got.Media == nil || got.Media.Status != switchboard.MediaReady {
			t.Fatalf("the next attempt: %+v", got.Media)
		}

		// A job queued by an earlier version carries only the message id.
		other := f.receive(t, "wamid.photo2", "2234567890123456", f.fake.PutMedia("2234567890123456", "image/png", []byte("second")))
		old := f.mediaJob(t, other)
		old.Payload, _ = json.Marshal(map[string]int64{"message_id": other.ID})
		if err := f.media.Fetch(ctx, old); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Message(ctx, other.ID); got.Media == nil || got.Media.Status != switchboard.MediaReady || got.Media.Size != 6 {
			t.Fatalf("old job: %+v", got.Media)
		}
	})
}

// TestMediaFetchAfterTokenChange: the downloader keeps channels for a moment; when an admin has
// replaced the token meanwhile and Meta refuses the old one, the download is tried again with the new
// token instead of marking the attachment unavailable. A token Meta refuses for good does mark it.
func TestMediaFetchAfterTokenChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := newMediaFixture(t, s)
		first := f.receive(t, "wamid.one", "1111111111111111", f.fake.PutMedia("1111111111111111", "image/png", []byte("one")))
		if err := f.media.Fetch(ctx, f.mediaJob(t, first)); err != nil { // the channel is now cached
			t.Fatal(err)
		}
		if _, err := s.UpdateChannel(ctx, f.ch.ID, func(c *switchboard.Channel) error { c.APIKey = "EAAG-second-token"; return nil }); err != nil {
			t.Fatal(err)
		}
		n, _ := f.fake.Number(f.ch.PhoneNumberID)
		n.Token = "EAAG-second-token"
		f.fake.RegisterNumber(n)

		second := f.receive(t, "wamid.two", "2222222222222222", f.fake.PutMedia("2222222222222222", "image/png", []byte("two")))
		if err := f.media.Fetch(ctx, f.mediaJob(t, second)); err != nil {
			t.Fatalf("download after the token changed: %v", err)
		}
		if got, _ := s.Message(ctx, second.ID); got.Media == nil || got.Media.Status != switchboard.MediaReady {
			t.Fatalf("after the token changed: %+v", got.Media)
		}

		// Meta refuses the current token too: the attachment is unavailable, and the job is not retried.
		n.Token = "EAAG-revoked-elsewhere"
		f.fake.RegisterNumber(n)
		third := f.receive(t, "wamid.three", "3333333333333333", f.fake.PutMedia("3333333333333333", "image/png", []byte("three")))
		f.events.take()
		err := f.media.Fetch(ctx, f.mediaJob(t, third))
		if err == nil || whatsapp.Classify(err) != whatsapp.ClassTokenInvalid {
			t.Fatalf("refused token: %v", err)
		}
		if got, _ := s.Message(ctx, third.ID); got.Media == nil || got.Media.Status != switchboard.MediaUnavailable {
			t.Fatalf("refused token: %+v", got.Media)
		}
		if evs := f.events.take(); len(evs) != 1 || evs[0].Type != switchboard.EventMessageUpdated {
			t.Fatalf("events: %+v", evs)
		}
	})
}

package graphtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/whatsapp"
)

// TestConcurrentUse drives the fake from many goroutines at once (sends with retries on injected
// throttling, read receipts, media, inbound deliveries, inspection) under -race, then checks that
// nothing was lost or duplicated.
func TestConcurrentUse(t *testing.T) {
	const workers, perWorker = 6, 20
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow("sent", "delivered")

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	waited := make(chan []SentMessage, 1)
	go func() {
		got, err := h.fake.WaitForSent(ctx, workers*perWorker)
		if err != nil {
			t.Errorf("WaitForSent: %v", err)
		}
		waited <- got
	}()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				to := fmt.Sprintf("49151000%02d%03d", w, i)
				for attempt := 1; ; attempt++ {
					_, err := h.client.Send(ctx, testToken, testPNID, whatsapp.OutboundMessage{To: to, Text: &whatsapp.Text{Body: "load"}})
					if err == nil {
						break
					}
					if whatsapp.Classify(err) != whatsapp.ClassRetry || attempt > 20 {
						t.Errorf("send to %s: %v", to, err)
						return
					}
				}
				if err := h.client.MarkRead(ctx, testToken, testPNID, fmt.Sprintf("wamid.IN%d.%d", w, i), i%2 == 0); err != nil {
					t.Errorf("mark read: %v", err)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			h.fake.FailNext(1, 130429)
			h.fake.PutMedia(fmt.Sprint("m", i), "image/png", []byte{byte(i)})
			_ = h.fake.AddTemplate(testWABA, []byte(fmt.Sprintf(`{"name":"t%d","language":"en"}`, i)))
			_ = h.fake.Sent()
			_ = h.fake.SentTo(testPNID)
			_ = h.fake.ReadReceipts()
			time.Sleep(time.Millisecond)
		}
	})
	wg.Go(func() {
		for i := range 10 {
			body, err := h.fake.Inbound(testPNID, TextMessage(customer, "Lena", fmt.Sprint("inbound ", i)))
			if err != nil {
				t.Error(err)
				return
			}
			resp, err := h.fake.Deliver(ctx, testPNID, body)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}
	})
	wg.Wait()

	sent := <-waited
	if len(sent) != workers*perWorker {
		t.Fatalf("%d sends recorded, want %d", len(sent), workers*perWorker)
	}
	ids := map[string]bool{}
	for _, m := range sent {
		if ids[m.MessageID] {
			t.Fatalf("duplicate wamid %s", m.MessageID)
		}
		ids[m.MessageID] = true
	}
	if n := len(h.fake.ReadReceipts()); n != workers*perWorker {
		t.Errorf("%d read receipts", n)
	}
	// Every send gets sent + delivered; plus the 10 inbound deliveries.
	ds := h.hooks.wait(2*workers*perWorker + 10)
	count := map[string]int{}
	for _, s := range statuses(ds) {
		if !ids[s.ID] {
			t.Fatalf("status for an unknown wamid %s", s.ID)
		}
		count[s.ID]++
	}
	for id := range ids {
		if count[id] != 2 {
			t.Fatalf("%s got %d statuses, want 2", id, count[id])
		}
	}
}

func TestResetKeepsNumbers(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	h.fake.FailNext(5, 131000)
	h.fake.Reset()
	if _, err := h.sendText(t.Context(), "after reset"); err != nil {
		t.Fatalf("send after Reset: %v", err)
	}
	if len(h.fake.Sent()) != 1 {
		t.Errorf("Sent = %d", len(h.fake.Sent()))
	}
	h.fake.Reset()
	if len(h.fake.Sent()) != 0 {
		t.Error("Reset kept the sends")
	}
	if _, ok := h.fake.Number(testPNID); !ok {
		t.Error("Reset forgot the numbers")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.fake.WaitForSent(ctx, 1); err == nil {
		t.Error("WaitForSent returned without sends")
	}
}

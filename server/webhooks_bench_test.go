package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"switchboard"
	"switchboard/config"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

// BenchmarkWebhookIngest measures one signed webhook (one customer text message, from one of 1,000
// contacts who each have an open conversation) through the real HTTP handler into the database:
// signature check, parse, the ingestion transaction (shared with the webhooks in flight meanwhile),
// 200. Run with -bench WebhookIngest; it reports messages per second.
//
//	go test ./server -run '^$' -bench WebhookIngest -benchtime 3s
func BenchmarkWebhookIngest(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			var st *store.Store
			if db == "sqlite" {
				st = storetest.SQLite(b, storetest.Options{})
			} else {
				st = storetest.Postgres(b, storetest.Options{})
			}
			cfg := &config.Config{PublicURL: "http://localhost:8080", SessionTTL: time.Hour}
			srv := httptest.NewServer(newBenchServer(cfg, st))
			defer srv.Close()
			ch := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Bench", PhoneNumber: "+15550001234",
				PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIKey: "EAAG-token", AppSecret: "bench-secret",
				VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad, Settings: switchboard.DefaultChannelSettings()}
			if err := st.CreateChannel(b.Context(), ch); err != nil {
				b.Fatal(err)
			}
			n := graphtest.Number{PhoneNumberID: ch.PhoneNumberID, DisplayPhoneNumber: "15550001234", WABAID: ch.BusinessAccountID}
			url := fmt.Sprintf("%s/webhooks/whatsapp/%d", srv.URL, ch.ID)
			client := srv.Client()
			post := func(body []byte) {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, ch.AppSecret))
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
			// The steady state of an inbox: every contact already has an open conversation.
			for i := range 1000 {
				post(graphtest.Envelope(n, time.Now(), graphtest.TextMessage(fmt.Sprintf("3361%07d", i), "Customer", "Hello")))
			}
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = graphtest.Envelope(n, time.Now(), graphtest.TextMessage(fmt.Sprintf("3361%07d", i%1000), "Customer", "Hello, where is my order?"))
			}
			// Meta posts concurrently; 16 requests in flight keep the database busy on a 2-core machine.
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					post(bodies[int(nextIndex())%len(bodies)])
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

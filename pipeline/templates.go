package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"switchboard"
	"switchboard/whatsapp"
)

// TemplateStore is the storage template sync needs.
type TemplateStore interface {
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	ListChannels(ctx context.Context, agentID int64) ([]*switchboard.Channel, error)
	ReplaceTemplates(ctx context.Context, channelID int64, templates []switchboard.Template) error
	ListTemplates(ctx context.Context, channelID int64) ([]*switchboard.Template, error)
}

// Templates keeps each channel's cache of approved message templates in step with Meta: on demand,
// periodically, and (through ingestion) on template status webhooks.
type Templates struct {
	store TemplateStore
	graph GraphClients
	log   *slog.Logger
}

// NewTemplates returns the template synchroniser.
func NewTemplates(store TemplateStore, graph GraphClients, log *slog.Logger) *Templates {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Templates{store: store, graph: graph, log: log}
}

// Sync fetches every template of the channel's business account (following Meta's paging) and
// replaces the cache with them.
func (t *Templates) Sync(ctx context.Context, channelID int64) ([]*switchboard.Template, error) {
	ch, err := t.store.Channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	list, err := t.graph.For(ch).ListTemplates(ctx, ch.APIKey, ch.BusinessAccountID)
	if err != nil {
		if whatsapp.Classify(err) == whatsapp.ClassTokenInvalid {
			return nil, switchboard.WrapError(switchboard.EUNAVAILABLE, "Meta rejected this channel's API key; replace it in the channel settings.", err)
		}
		return nil, switchboard.WrapError(switchboard.EUNAVAILABLE, "The templates could not be fetched from Meta; try again.", err)
	}
	out := make([]switchboard.Template, 0, len(list))
	for _, wt := range list {
		comps := componentsJSON(wt)
		out = append(out, switchboard.Template{ExternalID: wt.ID, Name: wt.Name, Language: wt.Language, Category: wt.Category,
			Status: wt.Status, ParameterFormat: wt.ParameterFormat, Components: comps, RejectedReason: wt.RejectedReason})
	}
	if err := t.store.ReplaceTemplates(ctx, ch.ID, out); err != nil {
		return nil, err
	}
	t.log.Info("templates synced", "channel_id", ch.ID, "count", len(out))
	return t.store.ListTemplates(ctx, ch.ID)
}

// componentsJSON keeps the components exactly as Meta listed them.
func componentsJSON(wt whatsapp.Template) []byte {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(wt.Raw, &raw); err == nil {
		if c, ok := raw["components"]; ok {
			return c
		}
	}
	return []byte("[]")
}

// Run syncs every channel's templates at start and then every interval, until ctx ends.
func (t *Templates) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		channels, err := t.store.ListChannels(ctx, 0)
		if err == nil {
			for _, ch := range channels {
				if _, err := t.Sync(ctx, ch.ID); err != nil && ctx.Err() == nil {
					t.log.Warn("periodic template sync", "channel_id", ch.ID, "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

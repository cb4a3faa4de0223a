package server

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"switchboard"
	"switchboard/pipeline"
)

// actionTimeout bounds one client request (a send, a read receipt, a presence change).
const actionTimeout = 30 * time.Second

// typingEvery is the least time between two WhatsApp typing indicators in one conversation.
const typingEvery = 20 * time.Second

// typingRelayEvery is the least time between two "typing: on" relays of one agent in one conversation.
const typingRelayEvery = 3 * time.Second

// handle decodes one client frame. Quick frames are answered here; requests that reach the database
// or WhatsApp go to the client's worker, which runs them in order, so two messages sent one after the
// other are queued in that order.
func (c *client) handle(data []byte) {
	var f inFrame
	if err := json.Unmarshal(data, &f); err != nil || f.Type == "" {
		c.replyError("", invalid(`A frame is a JSON object: {"type", "id", "data"}.`))
		return
	}
	if len(f.ID) > 100 {
		c.replyError("", invalid("A frame id must be at most 100 characters."))
		return
	}
	switch f.Type {
	case framePing:
		c.reply(outFrame{Type: "pong", ID: f.ID})
	case frameResume:
		var d struct {
			LastSeq int64 `json:"last_seq"`
		}
		if err := json.Unmarshal(f.Data, &d); err != nil || d.LastSeq < 0 {
			c.replyError(f.ID, invalid("resume needs data.last_seq, a non-negative integer."))
			return
		}
		select {
		case c.resume <- d.LastSeq:
		default:
			c.replyError(f.ID, switchboard.Errorf(switchboard.ERATELIMITED, "A resume is already under way."))
		}
	case frameSend, frameTyping, frameRead, framePresence:
		c.workerOnce.Do(func() {
			c.actions = make(chan inFrame, 16)
			c.hub.wg.Add(1) // the reader is still counted, so the group cannot be at zero here
			go c.work()
		})
		select {
		case c.actions <- f:
		default:
			c.replyError(f.ID, switchboard.Errorf(switchboard.ERATELIMITED, "Too many requests at once; wait for the answers."))
		}
	default:
		c.replyError(f.ID, invalid("Unknown frame type "+strconv.Quote(f.Type)+"."))
	}
}

func (c *client) replyError(id string, err error) {
	if switchboard.ErrorCode(err) == switchboard.EINTERNAL {
		c.hub.log.Error("websocket: request failed", "agent_id", c.agentID, "err", err)
	}
	c.reply(outFrame{Type: "error", ID: id, Data: errorData(err)})
}

// work runs the client's requests one at a time until the connection ends.
func (c *client) work() {
	defer c.hub.wg.Done()
	c.convChannel = map[int64]int64{}
	c.typingSent = map[int64]typingState{}
	for {
		select {
		case <-c.done:
			return
		case f := <-c.actions:
			ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
			data, err := c.act(ctx, f)
			cancel()
			switch {
			case err != nil:
				c.replyError(f.ID, err)
			case f.ID != "":
				c.reply(outFrame{Type: "ack", ID: f.ID, Data: data})
			}
		}
	}
}

// act runs one request and returns the ack's data.
func (c *client) act(ctx context.Context, f inFrame) (any, error) {
	var d struct {
		ConversationID int64                     `json:"conversation_id"`
		Text           string                    `json:"text"`
		Private        bool                      `json:"private"`
		Template       *pipeline.TemplateRequest `json:"template"`
		ReplyTo        string                    `json:"reply_to"`
		On             bool                      `json:"on"`
		Availability   switchboard.Availability  `json:"availability"`
	}
	if len(f.Data) == 0 || json.Unmarshal(f.Data, &d) != nil {
		return nil, invalid("The frame's data must be a JSON object.")
	}
	h := c.hub
	switch f.Type {
	case frameSend:
		if f.ID == "" {
			return nil, switchboard.FieldError("id", "A client id is required: it makes a retried send safe.")
		}
		if h.opts.Messenger == nil {
			return nil, unavailable("Sending")
		}
		m, err := h.opts.Messenger.Send(ctx, c.agent.Load(), pipeline.SendRequest{ConversationID: d.ConversationID,
			Text: d.Text, Private: d.Private, Template: d.Template, ReplyTo: d.ReplyTo, ClientID: f.ID})
		if err != nil {
			return nil, err
		}
		return map[string]any{"message_id": m.ID, "message": m}, nil
	case frameTyping:
		return nil, c.typing(ctx, d.ConversationID, d.On)
	case frameRead:
		if h.opts.Reads == nil {
			return nil, unavailable("Read receipts")
		}
		if _, err := c.visibleConversation(ctx, d.ConversationID); err != nil {
			return nil, err
		}
		return map[string]any{"conversation_id": d.ConversationID}, h.opts.Reads.MarkRead(ctx, c.agentID, d.ConversationID)
	default: // framePresence
		if !d.Availability.Valid() {
			return nil, switchboard.FieldError("availability", `Availability must be "available" or "away".`)
		}
		if h.opts.Presence == nil {
			return nil, unavailable("Presence")
		}
		return map[string]any{"availability": d.Availability}, h.opts.Presence.SetAvailability(ctx, c.agentID, d.Availability)
	}
}

func unavailable(what string) error {
	return switchboard.Errorf(switchboard.EUNAVAILABLE, "%s is not available on this server.", what)
}

// typing relays the agent's typing state to the colleagues who can see the conversation, on every
// replica (an ephemeral event: never logged), at most every few seconds while it stays on; and shows
// the customer WhatsApp's typing indicator, at most once per 20 s per conversation.
func (c *client) typing(ctx context.Context, conversationID int64, on bool) error {
	channelID, err := c.visibleConversation(ctx, conversationID)
	if err != nil {
		return err
	}
	now := time.Now()
	last := c.typingSent[conversationID]
	if on == last.on && (!on || now.Sub(last.at) < typingRelayEvery) {
		return nil
	}
	if len(c.typingSent) > 256 {
		clear(c.typingSent)
	}
	c.typingSent[conversationID] = typingState{on: on, at: now}
	agent := c.agent.Load()
	data, _ := json.Marshal(map[string]any{"conversation_id": conversationID, "agent_id": agent.ID,
		"agent_name": agent.Name, "on": on})
	c.hub.opts.Broker.Publish(ctx, []switchboard.Event{{Type: switchboard.EventTyping, ChannelID: channelID,
		ConversationID: conversationID, Data: data, CreatedAt: now.UTC()}})
	if on && c.hub.opts.Typing != nil && c.hub.typingAllowed(conversationID, now) {
		c.hub.wg.Add(1) // the worker is counted, so the group cannot be at zero here
		go func() {
			defer c.hub.wg.Done()
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), actionTimeout)
			defer cancel()
			if err := c.hub.opts.Typing.Typing(ctx, conversationID); err != nil {
				c.hub.log.Warn("websocket: typing indicator", "conversation_id", conversationID, "err", err)
			}
		}()
	}
	return nil
}

// visibleConversation returns the channel of a conversation the agent may see, or ENOTFOUND (the
// same answer as for a conversation that does not exist). A miss in the cached memberships is
// checked against the database once, in case the agent was just added to the channel.
func (c *client) visibleConversation(ctx context.Context, id int64) (int64, error) {
	if id <= 0 {
		return 0, switchboard.FieldError("conversation_id", "Conversation is required.")
	}
	channelID, ok := c.convChannel[id]
	if !ok {
		conv, err := c.hub.opts.Store.Conversation(ctx, id)
		if err != nil {
			return 0, err
		}
		if len(c.convChannel) > 1024 {
			clear(c.convChannel)
		}
		channelID = conv.ChannelID
		c.convChannel[id] = channelID
	}
	if c.isAdmin() || c.inChannel(channelID) {
		return channelID, nil
	}
	ids, err := c.hub.opts.Store.AgentChannelIDs(ctx, c.agentID)
	if err != nil {
		return 0, err
	}
	c.setChannels(ids)
	if c.inChannel(channelID) {
		return channelID, nil
	}
	return 0, switchboard.Errorf(switchboard.ENOTFOUND, "Conversation not found.")
}

// typingAllowed reports whether WhatsApp's typing indicator may be shown again in a conversation,
// and if so records it: once per typingEvery per conversation and process.
func (h *Hub) typingAllowed(conversationID int64, now time.Time) bool {
	h.typingMu.Lock()
	defer h.typingMu.Unlock()
	if last, ok := h.typingAt[conversationID]; ok && now.Sub(last) < typingEvery {
		return false
	}
	h.typingAt[conversationID] = now
	return true
}

func (h *Hub) pruneTyping() {
	h.typingMu.Lock()
	defer h.typingMu.Unlock()
	now := time.Now()
	for id, at := range h.typingAt {
		if now.Sub(at) >= typingEvery {
			delete(h.typingAt, id)
		}
	}
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/store"
)

// ChannelStore is the storage the channel handlers need.
type ChannelStore interface {
	CreateChannel(ctx context.Context, c *switchboard.Channel) error
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	ListChannels(ctx context.Context, agentID int64) ([]*switchboard.Channel, error)
	UpdateChannel(ctx context.Context, id int64, change func(c *switchboard.Channel) error) (*switchboard.Channel, error)
	DeleteChannel(ctx context.Context, id int64) error
	PutChannelMember(ctx context.Context, m *switchboard.ChannelMember) error
	RemoveChannelMember(ctx context.Context, channelID, agentID int64) error
	ListChannelMembers(ctx context.Context, channelID int64) ([]*store.ChannelMemberInfo, error)
	IsChannelMember(ctx context.Context, channelID, agentID int64) (bool, error)
	ListChannelEvents(ctx context.Context, channelID int64, cursor string, limit int) ([]*store.ChannelEventRecord, string, error)
}

// channelView is a channel as the API shows it: secrets never, the webhook URL always. Agents who are
// not admins do not see the verify token.
type channelView struct {
	*switchboard.Channel
	WebhookURL string `json:"webhook_url"`
	HasAPIKey  bool   `json:"has_api_key"`
}

func (s *Server) channelView(c *switchboard.Channel, admin bool) channelView {
	v := channelView{Channel: c, WebhookURL: strings.TrimRight(s.cfg.PublicURL, "/") + "/webhooks/whatsapp/" + itoa(c.ID), HasAPIKey: c.APIKey != ""}
	if !admin {
		cp := *c
		cp.VerifyToken = ""
		v.Channel = &cp
	}
	return v
}

type channelRequest struct {
	Name              *string `json:"name"`
	PhoneNumber       *string `json:"phone_number"`
	PhoneNumberID     *string `json:"phone_number_id"`
	BusinessAccountID *string `json:"business_account_id"`
	APIKey            *string `json:"api_key"`
	AppSecret         *string `json:"app_secret"`
	DefaultCapacity   *int    `json:"default_capacity"`
	// RotateVerifyToken replaces the verify token (then paste the new one at Meta).
	RotateVerifyToken bool `json:"rotate_verify_token"`
}

func (r *channelRequest) apply(c *switchboard.Channel) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&c.Name, r.Name)
	set(&c.PhoneNumber, r.PhoneNumber)
	set(&c.PhoneNumberID, r.PhoneNumberID)
	set(&c.BusinessAccountID, r.BusinessAccountID)
	set(&c.APIKey, r.APIKey)
	set(&c.AppSecret, r.AppSecret)
	if r.DefaultCapacity != nil {
		c.DefaultCapacity = *r.DefaultCapacity
	}
	if r.RotateVerifyToken {
		c.VerifyToken = randomToken(24)
	}
}

// newChannel returns a WhatsApp channel with the defaults of a new connection.
func newChannel() *switchboard.Channel {
	return &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, VerifyToken: randomToken(24), Status: switchboard.ChannelActive,
		AssignmentMode: switchboard.AssignByLoad, DefaultCapacity: switchboard.DefaultChannelCapacity,
		Settings: switchboard.DefaultChannelSettings()}
}

func (s *Server) handleCreateChannel(c echo.Context) error {
	var req channelRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ch := newChannel()
	req.apply(ch)
	if err := s.store.CreateChannel(c.Request().Context(), ch); err != nil {
		return err
	}
	s.log.Info("channel created", "channel_id", ch.ID, "phone_number_id", ch.PhoneNumberID, "by", currentAgent(c).ID)
	return c.JSON(http.StatusCreated, s.channelView(ch, true))
}

func (s *Server) handleListChannels(c echo.Context) error {
	me := currentAgent(c)
	var agentID int64
	if me.Role != switchboard.RoleAdmin {
		agentID = me.ID
	}
	chans, err := s.store.ListChannels(c.Request().Context(), agentID)
	if err != nil {
		return err
	}
	out := make([]channelView, len(chans))
	for i, ch := range chans {
		out[i] = s.channelView(ch, me.Role == switchboard.RoleAdmin)
	}
	return c.JSON(http.StatusOK, list(out))
}

// visibleChannel returns the channel if the current agent may see it (admins: all; agents: theirs).
func (s *Server) visibleChannel(c echo.Context) (*switchboard.Channel, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.channelFor(c, id)
}

// channelFor returns channel id if the current agent may see it.
func (s *Server) channelFor(c echo.Context, id int64) (*switchboard.Channel, error) {
	ctx := c.Request().Context()
	ch, err := s.store.Channel(ctx, id)
	if err != nil {
		return nil, err
	}
	if me := currentAgent(c); me.Role != switchboard.RoleAdmin {
		ok, err := s.store.IsChannelMember(ctx, ch.ID, me.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFoundErr("Channel")
		}
	}
	return ch, nil
}

func notFoundErr(what string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "%s not found.", what)
}

func (s *Server) handleGetChannel(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.channelView(ch, currentAgent(c).Role == switchboard.RoleAdmin))
}

func (s *Server) handleUpdateChannel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req channelRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ch, err := s.store.UpdateChannel(c.Request().Context(), id, func(ch *switchboard.Channel) error {
		req.apply(ch)
		if req.APIKey != nil && ch.Status == switchboard.ChannelTokenInvalid {
			ch.Status, ch.StatusReason = switchboard.ChannelActive, "" // a new token clears the flag
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.channelView(ch, true))
}

func (s *Server) handleDeleteChannel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteChannel(c.Request().Context(), id); err != nil {
		return err
	}
	s.log.Info("channel deleted", "channel_id", id, "by", currentAgent(c).ID)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) handleGetSettings(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ch.Settings)
}

// businessHoursNow is whether a channel is open now by its business hours, and since when it is closed
// or when it opens next (both null while open, or when the schedule is off).
type businessHoursNow struct {
	Enabled     bool       `json:"enabled"`
	Timezone    string     `json:"timezone"`
	Open        bool       `json:"open"`
	NextOpening *time.Time `json:"next_opening"`
	ClosedSince *time.Time `json:"closed_since"`
}

// handleGetBusinessHours tells, by the server's clock, whether the channel is open and, when closed,
// when it opens next (null when it never does within a year) and since when it is closed.
func (s *Server) handleGetBusinessHours(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	bh, now := &ch.Settings.BusinessHours, s.clock.Now()
	v := businessHoursNow{Enabled: bh.Enabled, Timezone: bh.Timezone, Open: bh.IsOpen(now)}
	if !v.Open {
		if at, ok := bh.NextOpening(now); ok {
			v.NextOpening = &at
		}
		if at, ok := bh.ClosedSince(now); ok {
			v.ClosedSince = &at
		}
	}
	return c.JSON(http.StatusOK, v)
}

// handleListChannelEvents lists what Meta reported about the channel besides messages (quality
// rating, account updates, out-of-band errors, template statuses), newest first; ?cursor= pages
// back, ?limit= (1-200, default 50).
func (s *Server) handleListChannelEvents(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 1, 200)
	if err != nil {
		return err
	}
	events, next, err := s.store.ListChannelEvents(c.Request().Context(), ch.ID, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	res := list(events)
	res.NextCursor = next
	return c.JSON(http.StatusOK, res)
}

// settingsParts names the parts of ChannelSettings a PUT may send on its own.
var settingsParts = map[string]func(s *switchboard.ChannelSettings) any{
	"greeting":            func(s *switchboard.ChannelSettings) any { return &s.Greeting },
	"csat":                func(s *switchboard.ChannelSettings) any { return &s.CSAT },
	"business_hours":      func(s *switchboard.ChannelSettings) any { return &s.BusinessHours },
	"keywords":            func(s *switchboard.ChannelSettings) any { return &s.Keywords },
	"reopen_window_hours": func(s *switchboard.ChannelSettings) any { return &s.ReopenWindowHours },
}

// handlePutSettings replaces the parts of the settings present in the body; the others are kept.
func (s *Server) handlePutSettings(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var parts map[string]json.RawMessage
	if err := bind(c, &parts); err != nil {
		return err
	}
	var p switchboard.Problems
	for k := range parts {
		if _, ok := settingsParts[k]; !ok {
			known := make([]string, 0, len(settingsParts))
			for name := range settingsParts {
				known = append(known, name)
			}
			sort.Strings(known)
			p.Add(k, "Unknown setting; use "+strings.Join(known, ", ")+".")
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	ch, err := s.store.UpdateChannel(c.Request().Context(), id, func(ch *switchboard.Channel) error {
		var p switchboard.Problems
		for k, raw := range parts {
			target := settingsParts[k](&ch.Settings)
			if k == "business_hours" {
				// Replacing the schedule replaces its maps and lists rather than merging into them.
				ch.Settings.BusinessHours = switchboard.BusinessHours{Timezone: "UTC", Weekly: map[string][]switchboard.Interval{}}
			}
			if err := json.Unmarshal(raw, target); err != nil {
				p.Add(k, "Not the expected shape: "+jsonProblem(err))
			}
		}
		if err := p.Err(); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		// Field names of settings problems are relative to the settings document.
		if fields := switchboard.ErrorFields(err); fields != nil {
			out := switchboard.Problems{}
			for k, v := range fields {
				out.Add(strings.TrimPrefix(k, "settings."), v)
			}
			return out.Err()
		}
		return err
	}
	return c.JSON(http.StatusOK, ch.Settings)
}

// jsonProblem describes a JSON type mismatch without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + " has the wrong type."
	}
	return "malformed JSON."
}

type memberRequest struct {
	AgentID  int64 `json:"agent_id"`
	Capacity *int  `json:"capacity"`
}

func (s *Server) handleListMembers(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	members, err := s.store.ListChannelMembers(c.Request().Context(), ch.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(members))
}

// handlePutMember adds a human agent to the channel (or changes their capacity).
func (s *Server) handlePutMember(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req memberRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := s.store.Channel(ctx, id)
	if err != nil {
		return err
	}
	m := &switchboard.ChannelMember{ChannelID: ch.ID, AgentID: req.AgentID, Capacity: ch.DefaultCapacity}
	if req.Capacity != nil {
		m.Capacity = *req.Capacity
	}
	if err := s.store.PutChannelMember(ctx, m); err != nil {
		return err
	}
	s.workspace.MemberAdded(ctx, ch.ID)
	return c.JSON(http.StatusCreated, m)
}

func (s *Server) handleRemoveMember(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	agentID, err := pathID(c, "agent_id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.store.RemoveChannelMember(ctx, id, agentID); err != nil {
		return err
	}
	s.workspace.MemberRemoved(ctx, id, agentID)
	return c.NoContent(http.StatusNoContent)
}

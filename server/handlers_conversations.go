package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/store"
)

// ConversationStore is the storage the conversation handlers need.
type ConversationStore interface {
	ListConversations(ctx context.Context, f store.ConversationFilter) ([]*switchboard.Conversation, string, error)
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	ListMessages(ctx context.Context, conversationID int64, cursor string, limit int) ([]*switchboard.Message, string, error)
}

func queryInt(c echo.Context, name string, min, max int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, switchboard.FieldError(name, "Use a number from "+strconv.Itoa(min)+" to "+strconv.Itoa(max)+".")
	}
	return n, nil
}

// handleListConversations lists the conversations the agent may see: ?status=open|pending|resolved,
// ?assignee=me|unassigned|ai|<agent id>, ?channel_id=, ?q= (contact name or number), ?cursor=, ?limit=.
func (s *Server) handleListConversations(c echo.Context) error {
	me := currentAgent(c)
	f := store.ConversationFilter{Status: c.QueryParam("status"), Assignee: c.QueryParam("assignee"), MeID: me.ID,
		Search: c.QueryParam("q"), Cursor: c.QueryParam("cursor")}
	if f.Status != "" && !switchboard.ValidStatus(f.Status) {
		return switchboard.FieldError("status", "Use open, pending or resolved.")
	}
	if me.Role != switchboard.RoleAdmin {
		f.ViewerID = me.ID
	}
	if v := c.QueryParam("channel_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return switchboard.FieldError("channel_id", "Use a channel id.")
		}
		f.ChannelID = id
	}
	limit, err := queryInt(c, "limit", 1, 100)
	if err != nil {
		return err
	}
	f.Limit = limit
	convs, next, err := s.store.ListConversations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	res := list(convs)
	res.NextCursor = next
	return c.JSON(http.StatusOK, res)
}

// visibleConversation returns the conversation if the agent may see it; otherwise it does not exist.
func (s *Server) visibleConversation(c echo.Context) (*switchboard.Conversation, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	conv, err := s.store.Conversation(ctx, id)
	if err != nil {
		return nil, err
	}
	if me := currentAgent(c); me.Role != switchboard.RoleAdmin {
		ok, err := s.store.IsChannelMember(ctx, conv.ChannelID, me.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFoundErr("Conversation")
		}
	}
	return conv, nil
}

func (s *Server) handleGetConversation(c echo.Context) error {
	conv, err := s.visibleConversation(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// handleListMessages returns a conversation's latest messages, oldest first; ?cursor= pages back.
func (s *Server) handleListMessages(c echo.Context) error {
	conv, err := s.visibleConversation(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 1, 200)
	if err != nil {
		return err
	}
	msgs, next, err := s.store.ListMessages(c.Request().Context(), conv.ID, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	res := list(msgs)
	res.NextCursor = next
	return c.JSON(http.StatusOK, res)
}

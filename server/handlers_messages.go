package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/pipeline"
)

// maxUploadBody bounds a multipart upload (WhatsApp documents go up to 100 MB).
const maxUploadBody = "101M"

type sendMessageRequest struct {
	Text     string                    `json:"text"`
	Private  bool                      `json:"private"`
	Template *pipeline.TemplateRequest `json:"template"`
	ReplyTo  string                    `json:"reply_to"`
	ClientID string                    `json:"client_id"`
}

// handleSendMessage sends a text, a private note, a template (header_params may carry a media
// header's image, video or document by link or media id; see pipeline.HeaderParam) or (multipart,
// field "file" with an optional "caption") an attachment. An Idempotency-Key header (or client_id)
// makes retries safe.
func (s *Server) handleSendMessage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	req := pipeline.SendRequest{ConversationID: id}
	if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		if err := s.bindUpload(c, &req); err != nil {
			return err
		}
	} else {
		var body sendMessageRequest
		if err := bind(c, &body); err != nil {
			return err
		}
		req.Text, req.Private, req.Template, req.ReplyTo, req.ClientID = body.Text, body.Private, body.Template, body.ReplyTo, body.ClientID
	}
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		req.ClientID = key
	}
	msg, err := s.outbound.Send(c.Request().Context(), currentAgent(c), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, msg)
}

// bindUpload reads a multipart attachment into the data directory.
func (s *Server) bindUpload(c echo.Context, req *pipeline.SendRequest) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return switchboard.FieldError("file", "Attach a file.")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	mime := fh.Header.Get(echo.HeaderContentType)
	if mime == "" || mime == "application/octet-stream" {
		mime = http.DetectContentType(data)
	}
	media, err := s.media.Save(fh.Filename, mime, data)
	if err != nil {
		return err
	}
	req.Media, req.Text, req.ClientID = media, c.FormValue("caption"), c.FormValue("client_id")
	return nil
}

// handleRetryMessage queues a failed message again.
func (s *Server) handleRetryMessage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	mid, err := pathID(c, "message_id")
	if err != nil {
		return err
	}
	msg, err := s.outbound.Retry(c.Request().Context(), currentAgent(c), id, mid)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, msg)
}

// MessageStore is the storage the attachment handler needs.
type MessageStore interface {
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
}

// safeInline lists the types a browser may show inline; anything else downloads.
var safeInline = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "image/gif": true,
	"video/mp4": true, "video/3gpp": true, "audio/ogg": true, "audio/mpeg": true, "audio/aac": true, "audio/mp4": true,
	"audio/amr": true, "application/pdf": true}

// handleMessageMedia serves an attachment to agents who may see its conversation.
func (s *Server) handleMessageMedia(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	msg, err := s.store.Message(ctx, id)
	if err != nil {
		return err
	}
	if me := currentAgent(c); me.Role != switchboard.RoleAdmin {
		ok, err := s.store.IsChannelMember(ctx, msg.ChannelID, me.ID)
		if err != nil {
			return err
		}
		if !ok {
			return notFoundErr("Message")
		}
	}
	f, err := s.media.Open(msg.Media)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	mime := strings.SplitN(msg.Media.MimeType, ";", 2)[0]
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, msg.Media.MimeType)
	h.Set("Cache-Control", "private, max-age=86400")
	disposition := "attachment"
	if safeInline[mime] {
		disposition = "inline"
	}
	name := msg.Media.Filename
	if name == "" {
		name = msg.Type
	}
	h.Set(echo.HeaderContentDisposition, disposition+`; filename="`+strings.NewReplacer(`"`, "", "\n", "", "\r", "").Replace(name)+`"`)
	http.ServeContent(c.Response(), c.Request(), "", st.ModTime(), f)
	return nil
}

// TemplateListStore is the storage the template list needs.
type TemplateListStore interface {
	ListTemplates(ctx context.Context, channelID int64) ([]*switchboard.Template, error)
}

// handleListTemplates lists a channel's cached templates (?channel_id= is required).
func (s *Server) handleListTemplates(c echo.Context) error {
	id, err := strconv.ParseInt(c.QueryParam("channel_id"), 10, 64)
	if err != nil || id <= 0 {
		return switchboard.FieldError("channel_id", "Choose a channel.")
	}
	ch, err := s.channelFor(c, id)
	if err != nil {
		return err
	}
	templates, err := s.store.ListTemplates(c.Request().Context(), ch.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(templates))
}

// handleSyncTemplates fetches the channel's templates from Meta now.
func (s *Server) handleSyncTemplates(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	templates, err := s.templates.Sync(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(templates))
}

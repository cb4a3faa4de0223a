package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// DefaultMaxMediaBytes bounds DownloadMedia when the caller passes no limit: 100 MB, Meta's largest
// media (documents).
const DefaultMaxMediaBytes = 100 << 20

// ErrMediaTooLarge is returned by DownloadMedia when the file exceeds the caller's limit.
var ErrMediaTooLarge = errors.New("whatsapp: media larger than the allowed size")

// MediaInfo is the answer of GET /{media-id}.
type MediaInfo struct {
	ID string
	// URL downloads the file with DownloadMedia; it is valid for 5 minutes.
	URL      string
	MimeType string
	// SHA256 is the file's digest as Meta sends it.
	SHA256 string
	// FileSize is in bytes (Meta sends it as a string or a number).
	FileSize int64
}

type mediaInfoWire struct {
	ID       flexString `json:"id"`
	URL      flexString `json:"url"`
	MimeType flexString `json:"mime_type"`
	SHA256   flexString `json:"sha256"`
	FileSize flexInt    `json:"file_size"`
}

// GetMedia looks up a media id (from a webhook or an upload) and returns its short-lived download URL
// and metadata. Webhook media ids expire after 7 days, so download promptly.
func (c *Client) GetMedia(ctx context.Context, token, mediaID string) (MediaInfo, error) {
	if err := requireIDs("media_id", mediaID); err != nil {
		return MediaInfo{}, err
	}
	var w mediaInfoWire
	if err := c.doJSON(ctx, http.MethodGet, c.endpoint(mediaID), token, nil, &w); err != nil {
		return MediaInfo{}, err
	}
	return MediaInfo{
		ID: string(w.ID), URL: string(w.URL), MimeType: string(w.MimeType),
		SHA256: string(w.SHA256), FileSize: int64(w.FileSize),
	}, nil
}

// DownloadMedia fetches a media URL from GetMedia (or a webhook's media url) with the bearer token,
// which Meta requires even though the URL is on another host: pass only URLs that came from Meta. It
// reads at most maxBytes (DefaultMaxMediaBytes when ≤ 0) and returns ErrMediaTooLarge beyond that. An
// expired URL fails like any Graph error; call GetMedia again for a fresh one.
func (c *Client) DownloadMedia(ctx context.Context, token, url string, maxBytes int64) ([]byte, error) {
	if err := requireIDs("url", url); err != nil {
		return nil, err
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMediaBytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: building media request: %w", err)
	}
	resp, err := c.send(req, token)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
		return nil, decodeGraphError(resp.StatusCode, data)
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMediaTooLarge, resp.ContentLength, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading media: %w", ErrTransport, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w: limit %d", ErrMediaTooLarge, maxBytes)
	}
	return data, nil
}

// UploadMedia uploads a file for later sends (ids live 30 days) as the multipart form Meta documents:
// messaging_product=whatsapp, type=<mime> and the file. It returns the media id.
func (c *Client) UploadMedia(ctx context.Context, token, phoneNumberID, filename, mime string, r io.Reader) (string, error) {
	if err := requireIDs("phone_number_id", phoneNumberID, "type", mime); err != nil {
		return "", err
	}
	// The form is buffered so the request has a length and can be replayed by the transport.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("messaging_product", "whatsapp"); err != nil {
		return "", err
	}
	if err := mw.WriteField("type", mime); err != nil {
		return "", err
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", multipart.FileContentDisposition("file", firstNonEmpty(filename, "file")))
	h.Set("Content-Type", mime)
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(part, r); err != nil {
		return "", fmt.Errorf("whatsapp: reading upload: %w", err)
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(phoneNumberID, "media"), &buf)
	if err != nil {
		return "", fmt.Errorf("whatsapp: building upload request: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var w struct {
		ID flexString `json:"id"`
	}
	if err := c.do(req, token, &w); err != nil {
		return "", err
	}
	if w.ID == "" {
		return "", errors.New("whatsapp: upload answer carries no media id")
	}
	return string(w.ID), nil
}

// MediaDigestMatches reports whether digest is the SHA-256 of data. Meta writes digests as base64 in
// webhooks and has been seen to use hex in GET /{media-id} answers, so hex and base64 (standard or
// URL alphabet, padded or not) are all accepted.
func MediaDigestMatches(data []byte, digest string) bool {
	digest = strings.TrimSpace(digest)
	sum := sha256.Sum256(data)
	for _, decode := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if b, err := decode(digest); err == nil && len(b) == sha256.Size {
			return subtle.ConstantTimeCompare(b, sum[:]) == 1
		}
	}
	return false
}

// DeleteMedia deletes an uploaded media id.
func (c *Client) DeleteMedia(ctx context.Context, token, mediaID string) error {
	if err := requireIDs("media_id", mediaID); err != nil {
		return err
	}
	var answer successWire
	if err := c.doJSON(ctx, http.MethodDelete, c.endpoint(mediaID), token, nil, &answer); err != nil {
		return err
	}
	if !answer.Success {
		return errNotSuccessful
	}
	return nil
}

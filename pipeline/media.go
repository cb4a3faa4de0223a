package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"switchboard"
	"switchboard/whatsapp"
)

// MediaStore is the storage the media job needs.
type MediaStore interface {
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	ResolvePendingMedia(ctx context.Context, messageID int64, media switchboard.Media) (*switchboard.Message, []switchboard.Event, error)
}

// GraphClients returns the Graph API client for a channel (sandbox channels talk to the built-in fake).
type GraphClients interface {
	For(ch *switchboard.Channel) *whatsapp.Client
}

// maxMediaBytes bounds a downloaded attachment (Meta's largest, documents, is 100 MB).
const maxMediaBytes = 100 << 20

// Media downloads customers' attachments from Meta into the data directory, named by SHA-256, so
// agents never depend on Meta's short-lived URLs.
type Media struct {
	store     MediaStore
	graph     GraphClients
	dir       string
	publisher Publisher
	log       *slog.Logger
	// channels spares each download a read of its channel (and the decryption of its token).
	channels channelCache
}

// MediaOptions configure NewMedia.
type MediaOptions struct {
	Store     MediaStore
	Graph     GraphClients
	Dir       string
	Publisher Publisher
	Logger    *slog.Logger
	// ChannelTTL is how long a channel read for a download is reused; 0 means channelTTL.
	ChannelTTL time.Duration
}

// NewMedia returns the media downloader.
func NewMedia(o MediaOptions) *Media {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Media{store: o.Store, graph: o.Graph, dir: o.Dir, publisher: o.Publisher, log: o.Logger, channels: channelCache{ttl: o.ChannelTTL}}
}

// Path returns where the bytes of a stored attachment live, or "" for an invalid digest.
func (m *Media) Path(sha256Hex string) string {
	if len(sha256Hex) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(sha256Hex); err != nil {
		return ""
	}
	return filepath.Join(m.dir, sha256Hex[:2], sha256Hex)
}

// Fetch is the media.fetch job: GET /{media-id} → download with the channel's token → verify the
// digest → write the file → mark the attachment ready. Failures are retried by the runner; the last
// attempt marks the attachment unavailable so the agent sees why nothing shows. The job carries the
// attachment as it was stored; the store changes it only while it is still pending, so a job run
// twice (its lease expired) changes nothing the second time.
func (m *Media) Fetch(ctx context.Context, j *switchboard.Job) error {
	p, err := m.pending(ctx, j)
	if err != nil || p == nil {
		return err
	}
	err = m.download(ctx, p)
	if err == nil {
		return nil
	}
	if j.Attempts >= j.MaxAttempts || finalFailure(err) {
		m.unavailable(ctx, p)
		return Permanent(err)
	}
	return err
}

// Buried is the media job's Buried hook (RunnerOptions.Buried): the worker downloading the attachment
// stopped on the job's last attempt, so the attachment is marked unavailable, as a last failed attempt
// would, rather than left pending for ever.
func (m *Media) Buried(ctx context.Context, j *switchboard.Job) error {
	p, err := m.pending(ctx, j)
	if err != nil || p == nil {
		return err
	}
	m.unavailable(ctx, p)
	return nil
}

// pending reads the job's attachment, or nil when it is no longer pending.
func (m *Media) pending(ctx context.Context, j *switchboard.Job) (*switchboard.MediaJob, error) {
	var p switchboard.MediaJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return nil, Permanent(err)
	}
	if p.Media == nil || p.ChannelID == 0 {
		// Queued by an earlier version: the attachment is read from its message.
		msg, err := m.store.Message(ctx, p.MessageID)
		if err != nil {
			if switchboard.IsCode(err, switchboard.ENOTFOUND) {
				return nil, Permanent(err)
			}
			return nil, err
		}
		p.ChannelID, p.Media = msg.ChannelID, msg.Media
	}
	if p.Media == nil || p.Media.Status != switchboard.MediaPending {
		return nil, nil
	}
	return &p, nil
}

// unavailable marks a pending attachment unavailable, so the agent sees why nothing shows.
func (m *Media) unavailable(ctx context.Context, p *switchboard.MediaJob) {
	media := *p.Media
	media.Status = switchboard.MediaUnavailable
	if _, events, err := m.store.ResolvePendingMedia(ctx, p.MessageID, media); err == nil {
		publish(ctx, m.publisher, events)
	}
}

// download fetches the attachment with the channel's token. The channel comes from a short-lived
// cache; should Meta refuse the token, the channel is read again and, when an admin has changed the
// token meanwhile, the download is tried again with the new one.
func (m *Media) download(ctx context.Context, p *switchboard.MediaJob) error {
	ch, err := m.channels.get(ctx, p.ChannelID, m.store.Channel)
	if err != nil {
		return err
	}
	err = m.downloadWith(ctx, ch, p)
	if err == nil || whatsapp.Classify(err) != whatsapp.ClassTokenInvalid {
		return err
	}
	m.channels.forget(p.ChannelID)
	fresh, ferr := m.channels.get(ctx, p.ChannelID, m.store.Channel)
	if ferr != nil {
		return ferr // tried again later, when the channel can be read
	}
	if fresh.APIKey == ch.APIKey {
		return err
	}
	return m.downloadWith(ctx, fresh, p)
}

// finalFailure reports whether a download error ends the job at once: Meta refused it for good, or
// refused the channel's token, or the channel is gone. Anything else (the database, the network, a
// digest that did not match) is tried again until the job's last attempt.
func finalFailure(err error) bool {
	var ge *whatsapp.GraphError
	if errors.As(err, &ge) {
		c := whatsapp.Classify(err)
		return c == whatsapp.ClassPermanent || c == whatsapp.ClassTokenInvalid
	}
	return switchboard.IsCode(err, switchboard.ENOTFOUND)
}

func (m *Media) downloadWith(ctx context.Context, ch *switchboard.Channel, p *switchboard.MediaJob) error {
	client := m.graph.For(ch)
	info, err := client.GetMedia(ctx, ch.APIKey, p.Media.ExternalID)
	if err != nil {
		return fmt.Errorf("get media %s: %w", p.Media.ExternalID, err)
	}
	data, err := client.DownloadMedia(ctx, ch.APIKey, info.URL, maxMediaBytes)
	if err != nil {
		return fmt.Errorf("download media %s: %w", p.Media.ExternalID, err)
	}
	sum := sha256.Sum256(data)
	if want := firstNonEmpty(p.Media.SHA256, info.SHA256); want != "" && !digestMatches(want, sum[:]) {
		return fmt.Errorf("media %s: digest mismatch", p.Media.ExternalID)
	}
	digest := hex.EncodeToString(sum[:])
	if err := writeFileAtomic(m.Path(digest), data); err != nil {
		return err
	}
	media := *p.Media
	media.Status, media.Size, media.SHA256 = switchboard.MediaReady, int64(len(data)), digest
	if media.MimeType == "" {
		media.MimeType = info.MimeType
	}
	media.URL = fmt.Sprintf("/api/v1/messages/%d/media", p.MessageID)
	_, events, err := m.store.ResolvePendingMedia(ctx, p.MessageID, media)
	if err != nil {
		return err
	}
	publish(ctx, m.publisher, events)
	return nil
}

// digestMatches compares Meta's digest (base64 per the docs, sometimes hex) with the bytes' SHA-256.
func digestMatches(want string, sum []byte) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(want); err == nil && len(b) == sha256.Size {
			return string(b) == string(sum)
		}
	}
	if b, err := hex.DecodeString(want); err == nil && len(b) == sha256.Size {
		return string(b) == string(sum)
	}
	return true // an undecodable digest cannot be checked; the bytes came over TLS with our token
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// writeFileAtomic writes through a temporary file so a crash never leaves half a file under its name.
func writeFileAtomic(path string, data []byte) error {
	if path == "" {
		return errors.New("invalid media path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return nil // same digest, same bytes
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".media-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// uploadLimits are WhatsApp's size limits per media type for what the business sends.
var uploadLimits = map[string]int64{"image": 5 << 20, "video": 16 << 20, "audio": 16 << 20, "document": 100 << 20, "sticker": 500 << 10}

// acceptedUpload lists the MIME types WhatsApp accepts for each media type.
var acceptedUpload = map[string][]string{
	"image":    {"image/jpeg", "image/png"},
	"video":    {"video/mp4", "video/3gpp"},
	"audio":    {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"},
	"sticker":  {"image/webp"},
	"document": nil, // any type WhatsApp treats as a document (pdf, Office, text, ...)
}

// Save stores an attachment an agent uploads (checked against WhatsApp's types and limits) and
// returns its description for the outgoing message.
func (m *Media) Save(filename, mime string, data []byte) (*switchboard.Media, error) {
	mime = strings.ToLower(strings.TrimSpace(strings.SplitN(mime, ";", 2)[0]))
	typ := mediaType(mime)
	if accepted := acceptedUpload[typ]; accepted != nil && !slices.Contains(accepted, mime) {
		return nil, &switchboard.Error{Code: switchboard.EINVALID, Message: "WhatsApp does not accept this file type.",
			Fields: map[string]string{"file": "Use " + strings.Join(accepted, ", ") + " for " + typ + "s."}}
	}
	if int64(len(data)) > uploadLimits[typ] {
		return nil, &switchboard.Error{Code: switchboard.EINVALID, Message: "The file is too large for WhatsApp.",
			Fields: map[string]string{"file": fmt.Sprintf("WhatsApp accepts %ss up to %d MB.", typ, uploadLimits[typ]>>20)}}
	}
	if len(data) == 0 {
		return nil, &switchboard.Error{Code: switchboard.EINVALID, Message: "The file is empty.", Fields: map[string]string{"file": "The file is empty."}}
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	if err := writeFileAtomic(m.Path(digest), data); err != nil {
		return nil, err
	}
	return &switchboard.Media{MimeType: mime, SHA256: digest, Filename: filepath.Base(filename), Size: int64(len(data)), Status: switchboard.MediaReady}, nil
}

// Open returns a stored attachment's file for serving.
func (m *Media) Open(media *switchboard.Media) (*os.File, error) {
	if media == nil || media.Status != switchboard.MediaReady {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "This attachment is not available.")
	}
	f, err := os.Open(m.Path(media.SHA256))
	if err != nil {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "This attachment is not available.")
	}
	return f, nil
}

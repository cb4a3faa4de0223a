package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// InTxForTest exposes the transaction helper to the store's external tests.
func (s *Store) InTxForTest(ctx context.Context, fn func(ctx context.Context, tx *gorm.DB) error) error {
	return s.inTx(ctx, fn)
}

// EnqueueJobTx exposes enqueueing inside a caller's transaction to the store's external tests.
func (s *Store) EnqueueJobTx(ctx context.Context, tx *gorm.DB, j *switchboard.Job) error {
	return s.enqueueJob(ctx, tx, j)
}

// InsertOutboundForTest stores an outbound message with a wamid, as the send path will, and applies
// statuses parked for it.
func (s *Store) InsertOutboundForTest(ctx context.Context, conversationID, channelID int64, wamid string) (*switchboard.Message, error) {
	m := &switchboard.Message{ConversationID: conversationID, ChannelID: channelID, Direction: switchboard.Outbound,
		Sender: switchboard.SenderAgent, Type: switchboard.TypeText, Text: "reply", ExternalID: wamid, Status: switchboard.MsgSent,
		CreatedAt: s.now()}
	row := messageToRow(m)
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		return s.applyParked(ctx, tx, row, nil)
	})
	if err != nil {
		return nil, err
	}
	return s.Message(ctx, row.ID)
}

// ResolveForTest resolves a conversation at a given time, as the workspace will.
func (s *Store) ResolveForTest(ctx context.Context, id int64, at time.Time) error {
	return s.conn(ctx).Model(&conversationRow{}).Where("id = ?", id).
		Updates(map[string]any{"status": switchboard.StatusResolved, "resolved_at": utc(at)}).Error
}

// IngestReadsForTest are the reads of the pipelined ingestion on PostgreSQL, keyed by what they do.
var IngestReadsForTest = map[string]string{"stored wamids": pgStoredWamids, "open conversations": pgLockConversations}

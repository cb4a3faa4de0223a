package store

import (
	"context"

	"gorm.io/gorm"

	"switchboard"
)

// ResolveForCSATTest resolves a conversation now and counts the resolution, as the resolve action
// does, and returns the resolution's number.
func (s *Store) ResolveForCSATTest(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		if err := tx.Model(&conversationRow{}).Where("id = ?", id).Updates(map[string]any{"status": switchboard.StatusResolved,
			"resolved_at": s.now(), "resolutions": gorm.Expr("resolutions + 1"), "updated_at": s.now()}).Error; err != nil {
			return err
		}
		var row conversationRow
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		n = row.Resolutions
		return nil
	})
	return n, err
}

// CSATReplyForTest runs the ingestion step that captures survey answers, in its own transaction,
// for the contact's message; it returns the resolved conversation the message belongs to, or 0.
func (s *Store) CSATReplyForTest(ctx context.Context, ch *switchboard.Channel, contactID int64, m *switchboard.Message) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		latest, err := s.latestConversation(tx, ch.ID, contactID)
		if err != nil {
			return err
		}
		conv, err := s.csatReplyTx(ctx, tx, ch, latest, m)
		if conv != nil {
			id = conv.ID
		}
		return err
	})
	return id, err
}

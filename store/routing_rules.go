package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type routingRuleRow struct {
	ID         int64
	ChannelID  int64
	Position   int
	Name       string
	Enabled    bool
	Conditions string
	TargetKind string
	TargetID   int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (routingRuleRow) TableName() string { return "routing_rules" }

func (r *routingRuleRow) toDomain() *switchboard.RoutingRule {
	rule := &switchboard.RoutingRule{ID: r.ID, ChannelID: r.ChannelID, Position: r.Position, Name: r.Name, Enabled: r.Enabled,
		Target: switchboard.RuleTarget{Kind: r.TargetKind, ID: r.TargetID}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if json.Unmarshal([]byte(r.Conditions), &rule.Conditions) != nil || rule.Conditions == nil {
		rule.Conditions = []switchboard.RuleCondition{}
	}
	return rule
}

func ruleToRow(r *switchboard.RoutingRule) *routingRuleRow {
	conds, _ := json.Marshal(r.Conditions)
	return &routingRuleRow{ID: r.ID, ChannelID: r.ChannelID, Position: r.Position, Name: strings.TrimSpace(r.Name), Enabled: r.Enabled,
		Conditions: string(conds), TargetKind: r.Target.Kind, TargetID: r.Target.ID, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

// ListRoutingRules returns a channel's routing rules in evaluation order.
func (s *Store) ListRoutingRules(ctx context.Context, channelID int64) ([]*switchboard.RoutingRule, error) {
	var rows []routingRuleRow
	if err := s.conn(ctx).Where("channel_id = ?", channelID).Order("position, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]*switchboard.RoutingRule, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// RoutingRule returns one routing rule of a channel.
func (s *Store) RoutingRule(ctx context.Context, channelID, id int64) (*switchboard.RoutingRule, error) {
	var row routingRuleRow
	if err := s.conn(ctx).Where("id = ? AND channel_id = ?", id, channelID).Take(&row).Error; err != nil {
		return nil, translateNotFound(err, "Routing rule")
	}
	return row.toDomain(), nil
}

// CreateRoutingRule validates a rule and appends it to the end of its channel's list.
func (s *Store) CreateRoutingRule(ctx context.Context, r *switchboard.RoutingRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		if err := lockLiveChannel(tx, r.ChannelID); err != nil {
			return err
		}
		if err := checkRuleTarget(tx, r.Target); err != nil {
			return err
		}
		var last []int
		if err := tx.Model(&routingRuleRow{}).Where("channel_id = ?", r.ChannelID).Order("position DESC").Limit(1).Pluck("position", &last).Error; err != nil {
			return err
		}
		r.Position = 1
		if len(last) == 1 {
			r.Position = last[0] + 1
		}
		r.CreatedAt, r.UpdatedAt = s.now(), s.now()
		row := ruleToRow(r)
		row.ID = 0
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		*r = *row.toDomain()
		return nil
	})
}

// UpdateRoutingRule applies change to a rule of the channel under the channel's lock, validates the
// result and stores it. The change may not move the rule to another channel or position (use
// ReorderRoutingRules).
func (s *Store) UpdateRoutingRule(ctx context.Context, channelID, id int64, change func(r *switchboard.RoutingRule) error) (*switchboard.RoutingRule, error) {
	var out *switchboard.RoutingRule
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		if err := lockLiveChannel(tx, channelID); err != nil {
			return err
		}
		var row routingRuleRow
		if err := tx.Where("id = ? AND channel_id = ?", id, channelID).Take(&row).Error; err != nil {
			return translateNotFound(err, "Routing rule")
		}
		r := row.toDomain()
		if err := change(r); err != nil {
			return err
		}
		r.ID, r.ChannelID, r.Position, r.CreatedAt, r.UpdatedAt = row.ID, row.ChannelID, row.Position, row.CreatedAt, s.now()
		if err := r.Validate(); err != nil {
			return err
		}
		if err := checkRuleTarget(tx, r.Target); err != nil {
			return err
		}
		if err := tx.Select("*").Omit("id", "channel_id", "position", "created_at").Updates(ruleToRow(r)).Error; err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// DeleteRoutingRule removes a rule of the channel.
func (s *Store) DeleteRoutingRule(ctx context.Context, channelID, id int64) error {
	res := s.conn(ctx).Where("id = ? AND channel_id = ?", id, channelID).Delete(&routingRuleRow{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("Routing rule")
	}
	return nil
}

// ReorderRoutingRules sets the evaluation order of a channel's rules in one transaction: ids must
// list every rule of the channel exactly once (EINVALID otherwise, e.g. when a rule was added or
// removed meanwhile). It returns the rules in their new order.
func (s *Store) ReorderRoutingRules(ctx context.Context, channelID int64, ids []int64) ([]*switchboard.RoutingRule, error) {
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		if err := lockLiveChannel(tx, channelID); err != nil {
			return err
		}
		var existing []int64
		if err := tx.Model(&routingRuleRow{}).Where("channel_id = ?", channelID).Pluck("id", &existing).Error; err != nil {
			return err
		}
		want := make(map[int64]bool, len(existing))
		for _, id := range existing {
			want[id] = true
		}
		for _, id := range ids {
			if !want[id] {
				return switchboard.FieldError("ids", "List each rule of this channel exactly once ("+strconv.FormatInt(id, 10)+" is unknown or repeated).")
			}
			delete(want, id)
		}
		if len(want) > 0 {
			return switchboard.FieldError("ids", "List each rule of this channel exactly once (some are missing).")
		}
		now := s.now()
		for i, id := range ids {
			if err := tx.Model(&routingRuleRow{}).Where("id = ?", id).Updates(map[string]any{"position": i + 1, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.ListRoutingRules(ctx, channelID)
}

// ContactReturning reports whether the conversation's contact had an earlier conversation (on any
// channel): the "returning" routing condition.
func (s *Store) ContactReturning(ctx context.Context, conversationID int64) (bool, error) {
	var ids []int64
	err := s.conn(ctx).Raw(`SELECT id FROM conversations WHERE contact_id = (SELECT contact_id FROM conversations WHERE id = ?)
AND id < ? LIMIT 1`, conversationID, conversationID).Scan(&ids).Error
	return len(ids) > 0, translate(err)
}

// lockLiveChannel locks a channel's row, serialising changes to its rules (ENOTFOUND when it does not
// exist or was deleted).
func lockLiveChannel(tx *gorm.DB, id int64) error {
	var ids []int64
	if err := tx.Model(&channelRow{}).Clauses(forUpdate()).Where("id = ? AND deleted_at IS NULL", id).Pluck("id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return notFound("Channel")
	}
	return nil
}

// checkRuleTarget makes sure an agent or team target exists. AI agents are checked when routing: a
// rule naming a missing or disabled one is passed over.
func checkRuleTarget(tx *gorm.DB, t switchboard.RuleTarget) error {
	var model any
	switch t.Kind {
	case switchboard.TargetAgent:
		model = &agentRow{}
	case switchboard.TargetTeam:
		model = &teamRow{}
	default:
		return nil
	}
	var n int64
	if err := tx.Model(model).Where("id = ?", t.ID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return switchboard.FieldError("target.id", "No such "+t.Kind+".")
	}
	return nil
}

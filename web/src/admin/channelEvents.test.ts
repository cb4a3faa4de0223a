import { describe, expect, it } from 'vitest'
import { compactJSON, summarize, tier, words } from './channelEvents'

// The details as the server stores them: the change's value as Meta sent it (whatsapp/testdata), or
// for "errors" the parsed errors (code, title, message, details, href).
const quality = {
  display_phone_number: '15550001234',
  event: 'UPGRADE',
  current_limit: 'TIER_10K',
  max_daily_conversations_per_business: 'TIER_10K',
  old_limit: 'TIER_2K',
}
const account = { phone_number: '15550001234', event: 'ACCOUNT_VIOLATION', violation_info: { violation_type: 'SCAM' } }
const errors = [
  {
    code: 131042,
    title: 'Business eligibility payment issue',
    message: 'Business eligibility payment issue',
    details: 'Message failed to send because there were one or more errors related to your payment method.',
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  },
]
const template = {
  event: 'REJECTED',
  message_template_id: 1234567890123456,
  message_template_name: 'order_shipped',
  message_template_language: 'en_US',
  reason: 'INVALID_FORMAT',
  message_template_category: 'UTILITY',
  rejection_info: { reason: 'Variables are not formatted correctly', recommendation: 'Use {{1}} style placeholders' },
}

describe('summarize', () => {
  it('sums up a quality update: the messaging limit, flags and ratings', () => {
    expect(summarize({ field: 'phone_number_quality_update', details: quality })).toEqual({
      label: 'Quality',
      title: 'Messaging limit raised: 2K → 10K a day',
      detail: '',
      tone: 'success',
    })
    expect(summarize({ field: 'phone_number_quality_update', details: { ...quality, event: 'DOWNGRADE', old_limit: 'TIER_10K', current_limit: 'TIER_2K', max_daily_conversations_per_business: undefined } }).title).toBe(
      'Messaging limit lowered: 10K → 2K a day',
    )
    const flagged = summarize({ field: 'phone_number_quality_update', details: { event: 'FLAGGED', current_limit: 'TIER_1K' } })
    expect(flagged).toEqual({ label: 'Quality', title: 'Quality rating: flagged as low', detail: 'Messaging limit 1K a day', tone: 'danger' })
    expect(summarize({ field: 'phone_number_quality_update', details: { event: 'UNFLAGGED' } }).title).toBe('Quality rating: no longer flagged')
    expect(summarize({ field: 'phone_number_quality_update', details: { previous_quality_score: 'GREEN', new_quality_score: 'YELLOW' } })).toMatchObject({
      title: 'Quality rating: GREEN → YELLOW',
      tone: 'warning',
    })
    expect(summarize({ field: 'phone_number_quality_update', details: { event: 'THROUGHPUT_UPGRADE', current_limit: 'TIER_UNLIMITED' } })).toMatchObject({
      title: 'Phone number quality: throughput upgrade',
      detail: 'Messaging limit unlimited a day',
    })
  })

  it('sums up an account update with its violation, ban or restrictions', () => {
    expect(summarize({ field: 'account_update', details: account })).toEqual({
      label: 'Account',
      title: 'Account update: account violation (violation: scam)',
      detail: '',
      tone: 'danger',
    })
    expect(
      summarize({
        field: 'account_update',
        details: { event: 'ACCOUNT_RESTRICTION', restriction_info: [{ restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: 1767225600 }] },
      }).title,
    ).toBe('Account update: account restriction (restricted: restricted biz initiated messaging until 1767225600)')
    expect(summarize({ field: 'account_update', details: { event: 'VERIFIED_ACCOUNT' } })).toMatchObject({ title: 'Account update: verified account', tone: 'neutral' })
  })

  it('sums up errors not tied to a message: code, title and details', () => {
    expect(summarize({ field: 'errors', details: errors })).toEqual({
      label: 'Error',
      title: 'Error 131042 Business eligibility payment issue: Message failed to send because there were one or more errors related to your payment method.',
      detail: '',
      tone: 'danger',
    })
    const two = summarize({ field: 'errors', details: [{ code: 131000, title: 'Something went wrong' }, { code: 368, title: 'Temporarily blocked', error_data: { details: 'Policy' } }] })
    expect(two.title).toBe('Error 131000 Something went wrong')
    expect(two.detail).toBe('Error 368 Temporarily blocked: Policy')
  })

  it("sums up a template's review", () => {
    expect(summarize({ field: 'message_template_status_update', details: template })).toEqual({
      label: 'Template',
      title: 'Template order_shipped (en_US) REJECTED: INVALID_FORMAT',
      detail: 'Variables are not formatted correctly · Use {{1}} style placeholders',
      tone: 'danger',
    })
    expect(
      summarize({ field: 'message_template_status_update', details: { event: 'APPROVED', message_template_name: 'order_update', message_template_language: 'en', reason: 'NONE' } }),
    ).toEqual({ label: 'Template', title: 'Template order_update (en) APPROVED', detail: '', tone: 'success' })
    expect(
      summarize({ field: 'message_template_quality_update', details: { previous_quality_score: 'GREEN', new_quality_score: 'RED', message_template_name: 'promo', message_template_language: 'en' } }),
    ).toMatchObject({ title: 'Template promo (en) quality: GREEN → RED', tone: 'danger' })
  })

  it('shows an unknown status and any other field with compact JSON', () => {
    const status = summarize({ field: 'status:deleted', details: { id: 'wamid.X', status: 'deleted', timestamp: '1767225600' } })
    expect(status).toEqual({
      label: 'Status',
      title: 'Message status “deleted”, which Switchboard does not know',
      detail: '{"id":"wamid.X","status":"deleted","timestamp":"1767225600"}',
      tone: 'neutral',
    })
    expect(summarize({ field: 'business_capability_update', details: { max_daily_conversation_per_phone: 1000 } })).toEqual({
      label: 'business_capability_update',
      title: 'business_capability_update',
      detail: '{"max_daily_conversation_per_phone":1000}',
      tone: 'neutral',
    })
    // A known field whose details are not what Meta documents falls back the same way.
    expect(summarize({ field: 'account_update', details: '<b>odd</b>' })).toMatchObject({ title: 'account_update', detail: '"<b>odd</b>"' })
  })
})

describe('helpers', () => {
  it('turns codes into words and tiers into limits', () => {
    expect(words('ACCOUNT_VIOLATION')).toBe('account violation')
    expect(tier('TIER_250')).toBe('250')
    expect(tier('TIER_NOT_SET')).toBe('not set')
    expect(tier('100000')).toBe('100000')
  })

  it('cuts long JSON', () => {
    expect(compactJSON({ a: 'x'.repeat(400) }, 20)).toBe('{"a":"xxxxxxxxxxxxx…')
    expect(compactJSON(null)).toBe('null')
  })
})

import { createHmac } from 'node:crypto';
import { alertSummary, type AlertEvent } from '../src/core/alerts.js';

/** An HTTP request as it leaves for a target: the body exactly as signed, and its headers. */
export interface AlertRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * The signature of a webhook body: HMAC-SHA256 under the target's secret of `<timestamp>.<body>`, in hex. The
 * timestamp is signed with the body, so a receiver that refuses old timestamps cannot be sent a recorded alert again.
 */
export function alertSignature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * A generic webhook's request: the event and its one-line summary as JSON, signed. `deliveryId` is the same on every
 * attempt of one delivery, so a receiver can drop a repeat.
 */
export function webhookRequest(event: AlertEvent, secret: string, deliveryId: string, now: number): AlertRequest {
  const body = JSON.stringify({ ...event, summary: alertSummary(event) });
  const timestamp = String(Math.floor(now / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-leadsync-delivery': deliveryId,
      'x-leadsync-timestamp': timestamp,
      'x-leadsync-signature': `sha256=${alertSignature(secret, timestamp, body)}`,
    },
  };
}

/** A Slack incoming webhook's request: the summary as `text` (what notifications show) and as a block. */
export function slackRequest(event: AlertEvent): AlertRequest {
  const text = alertSummary(event);
  const fields = [
    `*trigger* ${event.trigger}`,
    `*sync* \`${event.syncId}\``,
    `*account* \`${event.account}\``,
    ...(event.scheduleId ? [`*schedule* \`${event.scheduleId}\``] : []),
  ];
  return {
    body: JSON.stringify({
      text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text } },
        { type: 'context', elements: fields.map((field) => ({ type: 'mrkdwn', text: field })) },
      ],
    }),
    headers: { 'content-type': 'application/json' },
  };
}

/**
 * A provider adapter (issue 15): how one outside service (an SMS gateway, a voice-call service,
 * an SMTP server, a work-chat robot) is asked to deliver one message, and how its callbacks
 * (delivery receipts, a reply "1", a keypress on a call) are checked and read. Adapters know the
 * provider's wire format and signature and nothing of alarms: the chain renders each message
 * (texts, or a registered template's parameters) and keeps the notification records.
 */

/** How a message reaches a person. */
export type Medium = 'sms' | 'voice' | 'email' | 'chat' | 'webhook';

/** One message to deliver, already rendered for this medium and language. */
export interface ProviderMessage {
  /**
   * Unique per delivery attempt chain (stable across the adapter's own retries): providers that
   * take an idempotency key or an "out id" get it, so a retry after a timeout is not sent twice.
   */
  id: string;
  /** Phone number in E.164 (+8613800000000), e-mail address, or empty for a chat robot's group. */
  to: string;
  lang: 'zh-CN' | 'en';
  /** The whole text (Twilio SMS, TTS of a call, e-mail body, chat message). */
  text: string;
  /** E-mail subject, chat title. */
  subject?: string;
  /**
   * The facts a registered template takes (Alibaba Cloud and Tencent Cloud send only templates
   * approved beforehand): name → value, each value already cut to the provider's length rules.
   */
  params: Record<string, string>;
}

/** What a provider answered to an accepted request. */
export interface ProviderAccepted {
  /** The provider's id of the message or call (BizId, SerialNo, MessageSid, CallId, Message-ID…). */
  providerId: string | null;
  /**
   * Delivered in the same exchange, no receipt to wait for (the log channel). An SMTP server or
   * an SMS gateway accepting a message is not this: they report delivery later, if at all.
   */
  delivered?: boolean;
}

/** A provider refused or could not be reached: whether trying again may help. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    /** `retryable`: network, timeout, 5xx, throttling; `permanent`: bad number, bad template, auth. */
    readonly kind: 'retryable' | 'permanent',
    /** The provider's own error code, when it gave one. */
    readonly providerCode: string | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a callback said, once its signature is verified. */
export type ProviderCallback =
  | {
      type: 'receipt';
      providerId: string;
      status: 'sent' | 'delivered' | 'failed' | 'answered' | 'no_answer' | 'busy';
      /** When the provider says it happened (ms), else when received. */
      at: number;
      /** The provider's code or words for a failure. */
      detail?: string;
    }
  | {
      type: 'reply';
      /** The message or call replied to, when the provider links it; else null (match by `from`). */
      providerId: string | null;
      /** Who replied (E.164). */
      from: string;
      /** The text of an SMS reply, or the keys pressed on a call. */
      text: string;
      at: number;
    };

/** A callback request as the server received it (the raw body, before any parsing). */
export interface CallbackRequest {
  method: string;
  /** The full URL the provider called, as configured (signatures cover it for some providers). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

/** A callback refused: unsigned, a bad signature, too old, or unreadable. */
export class CallbackRefused extends Error {
  override readonly name = 'CallbackRefused';
  constructor(
    readonly reason: 'unsigned' | 'bad_signature' | 'stale' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP answer to a callback, for providers that act on it. */
export interface CallbackAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface ProviderAdapter {
  /** The configured channel's name (GASWATCH_CONFIG `channels.<name>`). */
  readonly name: string;
  /** e.g. `aliyun-sms`, `tencent-voice`, `twilio-sms`, `smtp`, `wecom`, `dingtalk`, `feishu`. */
  readonly type: string;
  readonly medium: Medium;
  /** Sends one message; rejects with a ProviderError. Never logs a secret. */
  send(message: ProviderMessage): Promise<ProviderAccepted>;
  /**
   * Checks a callback's signature and reads it (none, for providers without callbacks); rejects
   * with CallbackRefused. One request may carry several receipts.
   */
  callback?(request: CallbackRequest): Promise<ProviderCallback[]>;
  /**
   * What the server answers a callback it accepted with, for providers that act on the answer:
   * Twilio runs the TwiML that answers a call's keypress (the person hears "acknowledged") or an
   * incoming SMS; Alibaba Cloud pushes again unless it gets `{"code":0,...}`, Tencent Cloud expects
   * `{"result":0,"errmsg":"OK"}`. Absent: 204 with no body.
   */
  callbackAnswer?(request: CallbackRequest, callbacks: ProviderCallback[]): CallbackAnswer;
  stop?(): Promise<void>;
}

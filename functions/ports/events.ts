// The event publisher port: tells the assembler that a task finished
// uploading. Adapters: Pub/Sub (production, the emulator in tests) and
// in-process delivery (npm start).

/**
 * The upload-complete message, as the publisher writes it and the assembler's
 * reader (api/upload-complete-event.ts) parses it: on Pub/Sub, the message
 * data is this object as JSON, with UPLOAD_COMPLETE_ATTRIBUTES.
 */
export interface UploadCompleteMessage {
  /** The task's key: 40 lowercase hex characters. */
  taskKey: string;
}

/** The Pub/Sub attributes of an upload-complete message. */
export const UPLOAD_COMPLETE_ATTRIBUTES: Readonly<Record<string, string>> = { event: 'upload-complete' };

export interface EventPublisher {
  /** Publish the task key to the upload-complete topic; rejects when it cannot. */
  publishUploadComplete(taskKey: string): Promise<void>;
}

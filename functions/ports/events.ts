// The event publisher port: tells the assembler that a task finished
// uploading. Adapters: Pub/Sub (production, the emulator in tests) and
// in-process delivery (npm start).
export interface EventPublisher {
  /** Publish the task key to the upload-complete topic; rejects when it cannot. */
  publishUploadComplete(taskKey: string): Promise<void>;
}

export const UPLOAD_COMPLETE_TOPIC = 'upload-complete';

/**
 * Kinds of the append-only events every state change writes. They feed the ledger, analytics,
 * SSE and notifications; `data` holds the details named beside each kind.
 */
export const EVENTS = {
  taskCreated: "task.created", // {title, labels, source}
  taskStatus: "task.status", // {from?, to}
  pipelineCreated: "pipeline.created", // {name, run}
  pipelineStarted: "pipeline.started", // {}
  pipelineCompleted: "pipeline.completed", // {reason}
  pipelineFailed: "pipeline.failed", // {reason}
  pipelineBlocked: "pipeline.blocked", // {stage, reason}
  pipelineCancelled: "pipeline.cancelled", // {reason}
  pipelineRetried: "pipeline.retried", // {reason, stages}
  pipelineRouted: "pipeline.routed", // {agent, model, complexity, reason, warning}
  jobCreated: "job.created", // {stage, trigger, attempt, fixRound, agent, reason}
  jobStarted: "job.started", // {stage, session, runtime, pid}
  jobExited: "job.exited", // {stage, exitCode, signal}
  jobSucceeded: "job.succeeded", // {stage, durationMs}
  jobFailed: "job.failed", // {stage, errorClass, error, durationMs}
  jobSkipped: "job.skipped", // {stage, reason}
  jobCancelled: "job.cancelled", // {stage, reason}
  jobSpawned: "job.spawned", // {stage, byJob, context}
  gatePassed: "gate.passed", // {stage, gate, durationMs, autofixed}
  gateFailed: "gate.failed", // {stage, gate, exitCode, fingerprint, durationMs}
  sessionSteered: "session.steered", // {session, delivered, reason, message}
  sessionKilled: "session.killed", // {session, reason}
  sessionAdopted: "session.adopted", // {session}
  sessionLost: "session.lost", // {session, reason}
  sessionHuman: "session.human", // {session, attached, heldMs?}
  sessionSignal: "session.signal", // {session, signal: idle | active}
  agentSession: "agent.session", // {stage, sessionId, model}
  agentTool: "agent.tool", // {stage, name, summary}
  agentTurn: "agent.turn", // {stage, ok, text, detail}
  agentError: "agent.error", // {stage, errorClass, message, resetAt}
  agentPaused: "agent.paused", // {agent, until, reason}
  agentFallback: "agent.fallback", // {stage, from, to, until}
  artifactRecorded: "artifact.recorded", // {stage, path, sha256, size}
  engineError: "engine.error", // {message}
} as const;
export type EventKind = (typeof EVENTS)[keyof typeof EVENTS];

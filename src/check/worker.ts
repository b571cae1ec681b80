/**
 * The entry module of a check's worker threads (executor.ts starts them): it answers check tasks
 * (tasks.ts) with the built-in implementations, or the plug-in the user named, made in this thread.
 * It loads only nvconform's own modules, and a plug-in module only when a task's spec names one.
 */
import { serveTasks } from '../engine/pool.js';
import { BUILTINS } from '../engine/registry.js';
import { CHECK_TASKS, ImplCache, type CheckTaskContext } from './tasks.js';

serveTasks<CheckTaskContext>(CHECK_TASKS, () => ({ registry: BUILTINS, impls: new ImplCache(BUILTINS) }), (ctx) => ctx.impls.closeAll());

// The package's main module, loaded by functions-framework in Cloud Functions:
// registers every function; each deployment selects one by --entry-point.
// The entry modules are thin and load heavy SDKs only when first used.
import './entry/self-report.js';
import './entry/assemble-provenance.js';
import './entry/provenance-api.js';
import './entry/expire-tasks.js';

// @imagespec/google-common: what imagespec's Google adapters (@imagespec/auth-gar,
// @imagespec/builder-cloudbuild) share, so that neither imports the other. It loads no Google library.
export { adcHint, CLOUD_PLATFORM_SCOPE } from "./adc.ts";
export {
  classifyGoogleError,
  formatGoogleFailure,
  GoogleApiError,
  type GoogleFailure,
  type GoogleFailureKind,
  GrpcCode,
  redactGoogleTokens,
} from "./google-errors.ts";
export { artifactRegistryLocation, gcrLocation, isArtifactRegistryHost, normalizeHost } from "./hosts.ts";

// `provenance report artifact`: an artifact the step produced, its digest
// (given, or computed from --file) and the one place it went.
import { type Command, Option } from 'commander';
import { artifactBody, type ArtifactWhere } from '../../report/bodies.js';
import { sha256File } from '../../digest.js';
import { collectList, example, type StepOptions, withStepOptions } from '../../options.js';
import { stepContext } from '../../step-context.js';
import { UsageError } from '../../exit-codes.js';

interface ArtifactOptions extends StepOptions {
  digest?: string;
  file?: string;
  gcs?: string;
  cipd?: string;
  instanceId?: string;
  oci?: string;
  sbomFor?: string[];
}

export function registerReportArtifactCommand(report: Command): void {
  withStepOptions(report.command('artifact'))
    .description('report an artifact the step produced: its digest (or --file to hash) and where it went')
    .addOption(new Option('--digest <sha256>', "the artifact's sha256").conflicts('file'))
    .option('--file <path>', 'compute the digest from this file')
    .addOption(new Option('--gcs <uri>', 'uploaded to Cloud Storage').conflicts(['cipd', 'oci']))
    .addOption(
      new Option('--cipd <package>', 'registered as a CIPD package (with --instance-id)').conflicts(['gcs', 'oci']),
    )
    .addOption(new Option('--instance-id <iid>', 'the CIPD instance id').conflicts(['gcs', 'oci']))
    .addOption(new Option('--oci <image[:tag]>', 'pushed as a container image').conflicts(['gcs', 'cipd']))
    .option('--sbom-for <sha256>', 'this artifact is an SBOM describing that digest (repeatable)', collectList)
    .addHelpText(
      'after',
      example(
        '  provenance report artifact --file dist/app.tar --gcs gs://my-bucket/releases/app.tar\n  provenance report artifact --digest "$DIGEST" --oci us-docker.pkg.dev/my-project/apps/app:1.2.3',
      ),
    )
    .action(async (o: ArtifactOptions) => {
      const where: ArtifactWhere | undefined =
        o.gcs !== undefined
          ? { gcs: o.gcs }
          : o.cipd !== undefined
            ? { cipd: o.cipd, instanceId: o.instanceId ?? '' }
            : o.oci !== undefined
              ? { oci: o.oci }
              : undefined;
      if (!where) throw new UsageError('give exactly one of --gcs, --cipd (with --instance-id) or --oci');
      if (o.instanceId !== undefined && o.cipd === undefined) throw new UsageError('--instance-id goes with --cipd');
      let digest = o.digest;
      if (o.file !== undefined) {
        try {
          digest = await sha256File(o.file);
        } catch (err) {
          throw new UsageError(`--file: ${(err as Error).message}`);
        }
      }
      if (digest === undefined) throw new UsageError('give exactly one of --digest or --file');
      await stepContext(o).reporter.report('ReportArtifactDigest', artifactBody(digest, where, o.sbomFor));
    });
}

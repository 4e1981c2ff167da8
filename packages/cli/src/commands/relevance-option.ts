import { ModelError } from '@mmsc/codec';
import { EXIT } from '@mmsc/protocol';
import { OnnxTextImageRelevance, parseRelevanceChoice, type RelevanceChoice } from '@mmsc/sender';
import type { Command } from 'commander';
import { CliError } from '../errors.js';

/** Adds `--relevance` (what scores the frames' relevance) to a command that runs relevance. */
export function withRelevanceOption(cmd: Command): Command {
  return cmd.option(
    '--relevance <spec>',
    'what scores relevance: detector (the COCO-80 detector grounded by the lexicon, with the person mask and the text channel) or onnx:<file> (an open-vocabulary text–image ONNX export that reads the query itself; README, "Open-vocabulary relevance")',
    'detector',
  );
}

/** `--relevance` as a checked choice; a usage error otherwise. */
export function relevanceChoiceOf(o: { relevance?: string }): RelevanceChoice {
  try {
    return parseRelevanceChoice(o.relevance ?? 'detector');
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
}

/** The open-vocabulary model `choice` names (null for the detector); a file that is not one is a usage error naming it. */
export async function loadOpenRelevance(choice: RelevanceChoice): Promise<OnnxTextImageRelevance | null> {
  if (choice.kind !== 'onnx') return null;
  try {
    return await OnnxTextImageRelevance.fromFile(choice.file);
  } catch (e) {
    if (e instanceof ModelError) throw new CliError(`--relevance: ${e.message}`, EXIT.usage);
    throw e;
  }
}

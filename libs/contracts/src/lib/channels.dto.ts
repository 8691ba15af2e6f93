import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { GROUP_NAME_PATTERN } from './tenants.dto';

/** Provider wire formats a channel can speak. `openai` covers every OpenAI-compatible upstream. */
export enum ChannelType {
  OpenAI = 'openai',
}

export const CHANNEL_TYPES: readonly ChannelType[] = Object.values(ChannelType);

export class CreateChannelRequestDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name!: string;

  @IsIn(CHANNEL_TYPES as ChannelType[])
  type!: ChannelType;

  /** e.g. https://api.openai.com/v1 */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(500)
  baseUrl!: string;

  /** Provider credential; stored encrypted, never returned. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  apiKey!: string;

  /** Public model names this channel serves. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  models!: string[];

  /** requested (public) name → upstream name */
  @IsOptional()
  @IsObject()
  modelMapping?: Record<string, string>;

  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10000)
  weight?: number;

  /** Tenant groups allowed to use the channel; `["default"]` when omitted. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(GROUP_NAME_PATTERN, { each: true })
  groups?: string[];
}

export interface ChannelResponseDto {
  id: string;
  name: string;
  type: ChannelType;
  baseUrl: string;
  models: string[];
  modelMapping: Record<string, string>;
  priority: number;
  weight: number;
  groups: string[];
  status: 'enabled' | 'disabled';
  createdAt: string;
}

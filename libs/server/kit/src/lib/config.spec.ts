import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';
import { ConfigValidationError, describeConfig, loadConfig } from './config';

class SampleEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3001;

  @IsString()
  @MinLength(32)
  JWT_SECRET!: string;
}

describe('loadConfig', () => {
  it('converts and applies defaults', () => {
    const sut = loadConfig(SampleEnv, { JWT_SECRET: 'x'.repeat(32), PORT: '8080' });
    expect(sut.PORT).toBe(8080);
    expect(loadConfig(SampleEnv, { JWT_SECRET: 'x'.repeat(32), PORT: '' }).PORT).toBe(3001);
  });

  it('lists every invalid variable', () => {
    try {
      loadConfig(SampleEnv, { PORT: '99999' });
      throw new Error('should have failed');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigValidationError);
      const problems = (e as ConfigValidationError).problems.join('\n');
      expect(problems).toMatch(/PORT/);
      expect(problems).toMatch(/JWT_SECRET/);
    }
  });

  it('reads only the variables the class declares', () => {
    const sut = loadConfig(SampleEnv, { JWT_SECRET: 'x'.repeat(32), AWS_SECRET_ACCESS_KEY: 'leak' });
    expect(Object.keys(sut)).not.toContain('AWS_SECRET_ACCESS_KEY');
  });

  it('masks secrets when described', () => {
    const cfg = loadConfig(SampleEnv, { JWT_SECRET: 's'.repeat(40) });
    expect(describeConfig(cfg, ['JWT_SECRET'])).toEqual({ PORT: 3001, JWT_SECRET: '***' });
  });
});

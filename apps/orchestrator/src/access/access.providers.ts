import { Provider, Type } from '@nestjs/common';
import { IssueApiTokenHandler, ManagePrincipalHandler } from './access-commands.handler';
import { PrincipalDirectory } from './principal-directory';
import { PrincipalsController } from './principals.controller';

/** The admin API of principals and tokens (the guard that enforces them is in sharedProviders). */
export const principalControllers: Type[] = [PrincipalsController];
export const principalProviders: Provider[] = [PrincipalDirectory, ManagePrincipalHandler, IssueApiTokenHandler];

import { ScmonQuery } from '../types';
import { installTemplateSrv, newDataSource } from './testenv';

beforeAll(installTemplateSrv);

describe('DataSource.applyTemplateVariables', () => {
  const { ds } = newDataSource();

  it('replaces variables in every field, multi-value ones as CSV', () => {
    const q: ScmonQuery = {
      refId: 'A',
      queryType: 'figures',
      resource: '$basis',
      every: 'day',
      groupBy: ['partition'],
      partitions: ['$partition', 'viz'],
      models: ['$undefined'],
      limit: '$limit',
    };
    expect(ds.applyTemplateVariables(q, {})).toEqual({
      refId: 'A',
      queryType: 'figures',
      resource: 'billing',
      every: 'day',
      groupBy: ['partition'],
      partitions: ['gpu,npu', 'viz'],
      models: ['$undefined'],
      limit: 25,
    });
  });

  it('keeps a limit that is not a number for the backend to refuse', () => {
    expect(ds.applyTemplateVariables({ refId: 'A', limit: 'ten' }, {}).limit).toBe('ten');
    expect(ds.applyTemplateVariables({ refId: 'A', limit: 7 }, {}).limit).toBe(7);
  });

  it('lists values through the backend resources', async () => {
    const { ds, calls } = newDataSource();
    await expect(ds.listValues('partitions', { from: 'a', to: 'b' })).resolves.toEqual(['cpu', 'gpu', 'npu', 'viz']);
    expect(calls).toEqual([{ path: 'partitions', params: { from: 'a', to: 'b' } }]);
  });
});

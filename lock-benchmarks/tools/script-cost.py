# What our acquire and release scripts cost Redis against Spring Integration's, measured by Redis itself
# (INFO commandstats, INFO cpu) over pipelined acquire + release pairs. Runs FLUSHALL: use a Redis of its own.
# Usage: python3 lock-benchmarks/tools/script-cost.py <port> [pairs]
# Our acquire reserves 16 tokens (ARGV[3]) as the engine does; the figures of 2026-12-04 were taken with 0.
import sys, os
from resp import Redis, enc
R=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'lock-spring-boot-autoconfigure', 'src', 'main', 'resources', 'io', 'github', 'userlock', 'redis') + os.sep
redis=Redis(int(sys.argv[1]) if len(sys.argv) > 1 else 6379)
cmd=redis.cmd
pipe=redis.pipe
src={}
src['our_acq']=open(R+'acquire.lua').read()
src['our_rel']=open(R+'release.lua').read()
src['nofence_acq']="""local acquired = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if acquired then return 1 end
return -1"""
# Spring Integration's scripts, copied (its release deletes with UNLINK since 7.0; DEL here, as in the figures of
# docs/BENCHMARKS.md taken with this tool)
src['si_acq']="""local lockClientId = redis.call('GET', KEYS[1])
if lockClientId == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return true
elseif not lockClientId then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return true
end
return false"""
src['si_rel']="""local lockClientId = redis.call('GET', KEYS[1])
if lockClientId == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return true
end
return false"""
sha={k:cmd('SCRIPT','LOAD',v).decode() for k,v in src.items()}
N=int(sys.argv[2]) if len(sys.argv) > 2 else 100000
def cpu():
    info=cmd('INFO','cpu').decode()
    d=dict(l.split(':') for l in info.split('\r\n') if ':' in l)
    return float(d['used_cpu_sys'])+float(d['used_cpu_user'])
tok='a'*32
def run(name, acq, rel, acqkeys):
    cmd('FLUSHALL'); cmd('CONFIG','RESETSTAT')
    c0=cpu()
    B=500
    for start in range(0,N,B):
        batch=[]
        for i in range(start,start+B):
            k='lock:{%d}:user-%d'%(i%1024, i%10000)
            keys=[k,'lock:{%d}'%(i%1024)] if acqkeys==2 else [k]
            args=[tok,'30000','16'] if acqkeys==2 else [tok,'30000']
            batch.append(enc('EVALSHA',sha[acq],len(keys),*keys,*args))
            rargs=[tok,'lock:released','0'] if rel=='our_rel' else [tok]
            batch.append(enc('EVALSHA',sha[rel],1,k,*rargs))
        pipe(batch)
    calls,usec=redis.evalsha_stats(); c1=cpu()
    print('%-28s %6.2f us/script call (commandstats), %6.2f us CPU per acquire+release (pipelined)'%(name, usec/calls, (c1-c0)*1e6/N))
for rep in range(2):
    run('ours (acquire+release)','our_acq','our_rel',2)
    run('ours without fencing','nofence_acq','our_rel',1)
    run('spring integration','si_acq','si_rel',1)
